// JSONScanner.swift
//
// A byte-level JSON reader for one top-level object: walks its members, validates every value (nested ones
// too, iteratively, so depth cannot overflow the stack) and reports where each key and value lie. Owns
// JSON syntax (RFC 8259) and unescaping; does not own what becomes a field (JSONParser.swift).
// Bytes >= 0x80 inside strings are passed through unchecked (rapidjson does the same by default).

/// What kind of value a member holds.
enum JSONValueKind: Equatable {
    /// A string; the range excludes the quotes. `escaped` when it holds a backslash escape.
    case string(escaped: Bool)
    /// An object or array; `compact` when it has no whitespace outside its strings.
    case container(compact: Bool)
    /// A number, `true`, `false` or `null`.
    case scalar
}

struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    /// The closing byte of each open container while one is validated: `maxDepth` bytes the caller owns
    /// and reuses, so scanning allocates nothing.
    private let closers: UnsafeMutablePointer<UInt8>
    private var depth = 0

    /// Nesting deeper than this is refused (a hostile line cannot make the stack grow without bound).
    static let maxDepth = 1024

    /// `closers` must hold `maxDepth` bytes.
    init(_ bytes: UnsafeRawBufferPointer, closers: UnsafeMutablePointer<UInt8>) {
        self.bytes = bytes
        self.closers = closers
    }

    var atEnd: Bool { position >= bytes.count }

    @inline(__always) func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Compact JSON has no whitespace between tokens: the first byte decides, without a loop.
    @inline(__always)
    mutating func skipWhitespace() -> Bool {
        guard position < bytes.count, bytes[position] <= 0x20 else { return false }
        let start = position
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
        return position != start
    }

    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Consumes `byte` if it is next.
    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    /// At a quote: consumes the string; returns its inside and whether it holds escapes. Inlined into each
    /// caller (keys and values): a call per string was a tenth of JSON parsing.
    @inline(__always)
    mutating func scanString() -> (range: Range<Int>, escaped: Bool)? {
        guard consume(0x22) else { return nil }
        let start = position
        var escaped = false
        while position < bytes.count {
            position = ByteScan.firstJSONStringSpecial(in: bytes, from: position, orNonASCII: false)
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == 0x22 {
                position += 1
                return (start..<position - 1, escaped)
            }
            if byte < 0x20 { return nil }
            if byte == 0x5C {
                escaped = true
                guard position + 1 < bytes.count else { return nil }
                switch bytes[position + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: position += 2
                case 0x75:
                    guard position + 6 <= bytes.count else { return nil }
                    for offset in 2..<6 where Self.hexValue(bytes[position + offset]) == nil { return nil }
                    position += 6
                default: return nil
                }
            } else {
                position += 1
            }
        }
        return nil
    }

    /// Consumes one value of any kind; returns its range and kind.
    mutating func scanValue() -> (range: Range<Int>, kind: JSONValueKind)? {
        guard let byte = peek() else { return nil }
        let start = position
        switch byte {
        case 0x22:
            guard let string = scanString() else { return nil }
            return (string.range, .string(escaped: string.escaped))
        case 0x7B, 0x5B:
            guard let compact = scanContainer() else { return nil }
            return (start..<position, .container(compact: compact))
        case 0x74: return scanLiteral("true") ? (start..<position, .scalar) : nil
        case 0x66: return scanLiteral("false") ? (start..<position, .scalar) : nil
        case 0x6E: return scanLiteral("null") ? (start..<position, .scalar) : nil
        default: return scanNumber() ? (start..<position, .scalar) : nil
        }
    }

    private mutating func scanLiteral(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] { return false }
        position += count
        return true
    }

    /// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    private mutating func scanNumber() -> Bool {
        _ = consume(0x2D)
        guard let first = peek(), Self.isDigit(first) else { return false }
        position += 1
        if first != 0x30 { skipDigits() }
        if consume(0x2E) {
            guard let digit = peek(), Self.isDigit(digit) else { return false }
            skipDigits()
        }
        if peek() == 0x65 || peek() == 0x45 {
            position += 1
            if !consume(0x2B) { _ = consume(0x2D) }
            guard let digit = peek(), Self.isDigit(digit) else { return false }
            skipDigits()
        }
        return true
    }

    private mutating func skipDigits() {
        while let byte = peek(), Self.isDigit(byte) { position += 1 }
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private enum Expect { case firstOrClose, member, colon, value, commaOrClose }

    /// At '{' or '[': consumes and validates the whole container. Returns whether it was already compact.
    private mutating func scanContainer() -> Bool? {
        depth = 0
        var compact = true
        var expect = Expect.value
        while true {
            if skipWhitespace() { compact = false }
            guard let byte = peek() else { return nil }
            switch expect {
            case .value:
                if byte == 0x7B || byte == 0x5B {
                    guard depth < Self.maxDepth else { return nil }
                    closers[depth] = byte == 0x7B ? 0x7D : 0x5D
                    depth += 1
                    position += 1
                    expect = .firstOrClose
                } else {
                    guard scanValue() != nil else { return nil }
                    expect = .commaOrClose
                }
            case .firstOrClose:
                if byte == closers[depth - 1] {
                    position += 1
                    depth -= 1
                    if depth == 0 { return compact }
                    expect = .commaOrClose
                } else {
                    expect = closers[depth - 1] == 0x7D ? .member : .value
                }
            case .member:
                guard scanString() != nil else { return nil }
                expect = .colon
            case .colon:
                guard byte == 0x3A else { return nil }
                position += 1
                expect = .value
            case .commaOrClose:
                if byte == 0x2C {
                    position += 1
                    expect = closers[depth - 1] == 0x7D ? .member : .value
                } else if byte == closers[depth - 1] {
                    position += 1
                    depth -= 1
                    if depth == 0 { return compact }
                } else {
                    return nil
                }
            }
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }
}
