// JSONUnescape.swift
//
// Turns the inside of a JSON string with escapes into its UTF-8 bytes, and a container with insignificant
// whitespace into compact text, both into a parser's scratch. Owns no scanning (JSONScanner.swift has
// already validated the syntax it is given).
//
//   "a\"b\u00e9\ud83d\ude00"  ->  a"bé😀      { "a" : [1, 2] }  ->  {"a":[1,2]}

extension FieldStaging {
    /// Appends the unescaped form of `inside` (a validated string's inside). False for a lone surrogate.
    mutating func appendUnescaped(_ bytes: UnsafeRawBufferPointer, _ inside: Range<Int>) -> Bool {
        var index = inside.lowerBound
        while index < inside.upperBound {
            let byte = bytes[index]
            guard byte == 0x5C else {
                append(byte)
                index += 1
                continue
            }
            let code = bytes[index + 1]
            index += 2
            switch code {
            case 0x62: append(0x08)
            case 0x66: append(0x0C)
            case 0x6E: append(0x0A)
            case 0x72: append(0x0D)
            case 0x74: append(0x09)
            case 0x75:
                guard let scalar = Self.unicodeEscape(bytes, &index, end: inside.upperBound) else { return false }
                appendUTF8(scalar)
            default: append(code)
            }
        }
        return true
    }

    /// Reads the 4 hex digits at `index` (after `\u`), and a low surrogate's `\uXXXX` after a high one.
    private static func unicodeEscape(_ bytes: UnsafeRawBufferPointer, _ index: inout Int, end: Int) -> UInt32? {
        let high = hex4(bytes, index)
        index += 4
        if high >= 0xDC00 && high <= 0xDFFF { return nil }
        guard high >= 0xD800 && high <= 0xDBFF else { return high }
        guard index + 6 <= end, bytes[index] == 0x5C, bytes[index + 1] == 0x75 else { return nil }
        let low = hex4(bytes, index + 2)
        guard low >= 0xDC00 && low <= 0xDFFF else { return nil }
        index += 6
        return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | (JSONScanner.hexValue(bytes[at + offset]) ?? 0) }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            append(UInt8(scalar))
        case 0x80..<0x800:
            append(UInt8(0xC0 | scalar >> 6))
            append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            append(UInt8(0xE0 | scalar >> 12))
            append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            append(UInt8(0x80 | scalar & 0x3F))
        default:
            append(UInt8(0xF0 | scalar >> 18))
            append(UInt8(0x80 | (scalar >> 12) & 0x3F))
            append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Appends a validated container without the whitespace outside its strings.
    mutating func appendCompacted(_ bytes: UnsafeRawBufferPointer, _ container: Range<Int>) {
        var inString = false
        var index = container.lowerBound
        while index < container.upperBound {
            let byte = bytes[index]
            if inString {
                append(byte)
                if byte == 0x5C {
                    append(bytes[index + 1])
                    index += 1
                } else if byte == 0x22 {
                    inString = false
                }
            } else if !JSONScanner.isWhitespace(byte) {
                append(byte)
                inString = byte == 0x22
            }
            index += 1
        }
    }
}
