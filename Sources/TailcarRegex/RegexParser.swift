// RegexParser.swift
//
// Turns a pattern's bytes into a syntax tree (`RegexNode`) for the PCRE subset found in Logtail
// configs, and rejects everything else with a `RegexCompileError` naming the construct and its
// byte offset. Owns syntax and inline flags; does not own code generation or matching.

/// The syntax tree. Literals and classes are already case-folded into byte sets.
indirect enum RegexNode {
    case empty
    case set(ByteSet)
    case concat([RegexNode])
    case alternation([RegexNode])
    case capture(RegexNode, index: Int)
    case group(RegexNode)
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
    case assertion(RegexAssertion)
}

enum RegexAssertion: Int32 {
    case startOfSubject      // \A, and ^ without (?m)
    case startOfLine         // ^ with (?m): start, or after a '\n' that is not the last byte
    case endOrFinalNewline   // $ without (?m), \Z
    case endOfSubject        // \z
    case endOfLine           // $ with (?m): end, or before any '\n'
    case wordBoundary        // \b
    case notWordBoundary     // \B
}

struct RegexParser {
    private let bytes: [UInt8]
    private let pattern: String
    private var at = 0
    private var caseless = false, dotAll = false, multiline = false
    private(set) var groupCount = 0
    private(set) var names: [Int: String] = [:]

    /// Repetition counts above this are rejected (PCRE2's own limit is 65535).
    static let maxRepeat = 65535

    init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    mutating func parse() throws(RegexCompileError) -> RegexNode {
        let node = try parseAlternation(depth: 0)
        if at < bytes.count { throw fail("unmatched closing parenthesis", at) }
        return node
    }

    func fail(_ construct: String, _ offset: Int) -> RegexCompileError {
        RegexCompileError(construct: construct, offset: offset, pattern: pattern)
    }

    private var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    private mutating func parseAlternation(depth: Int) throws(RegexCompileError) -> RegexNode {
        if depth > 200 { throw fail("groups nested too deeply", at) }
        var branches = [try parseConcat(depth: depth)]
        while peek == UInt8(ascii: "|") {
            at += 1
            branches.append(try parseConcat(depth: depth))
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcat(depth: Int) throws(RegexCompileError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
            let start = at
            guard let atom = try parseAtom(depth: depth) else { continue }
            items.append(try parseQuantifiers(atom, atomStart: start))
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    /// One item; nil when the item was only a flag setting like `(?i)` or a comment.
    private mutating func parseAtom(depth: Int) throws(RegexCompileError) -> RegexNode? {
        let c = bytes[at]
        switch c {
        case UInt8(ascii: "("):
            return try parseGroup(depth: depth)
        case UInt8(ascii: "["):
            return .set(try parseClass())
        case UInt8(ascii: "."):
            at += 1
            return .set(dotAll ? .all : .dot)
        case UInt8(ascii: "^"):
            at += 1
            return .assertion(multiline ? .startOfLine : .startOfSubject)
        case UInt8(ascii: "$"):
            at += 1
            return .assertion(multiline ? .endOfLine : .endOrFinalNewline)
        case UInt8(ascii: "\\"):
            return try parseEscape()
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw fail("quantifier does not follow a repeatable item", at)
        case UInt8(ascii: "{"):
            if quantifierBounds(from: at) != nil {
                throw fail("quantifier does not follow a repeatable item", at)
            }
            at += 1
            return literal(c)
        default:
            at += 1
            return literal(c)
        }
    }

    private func literal(_ c: UInt8) -> RegexNode {
        let s = ByteSet(byte: c)
        return .set(caseless ? s.caseFolded : s)
    }

    private mutating func parseQuantifiers(_ atom: RegexNode, atomStart: Int) throws(RegexCompileError) -> RegexNode {
        guard let c = peek else { return atom }
        var bounds: (min: Int, max: Int?, end: Int)
        switch c {
        case UInt8(ascii: "*"): bounds = (0, nil, at + 1)
        case UInt8(ascii: "+"): bounds = (1, nil, at + 1)
        case UInt8(ascii: "?"): bounds = (0, 1, at + 1)
        case UInt8(ascii: "{"):
            guard let b = quantifierBounds(from: at) else { return atom }
            bounds = b
        default: return atom
        }
        if case .assertion = atom { throw fail("quantifier after an assertion", at) }
        if let m = bounds.max, m < bounds.min { throw fail("numbers out of order in {} quantifier", at) }
        if bounds.min > Self.maxRepeat || (bounds.max ?? 0) > Self.maxRepeat {
            throw fail("number too big in {} quantifier", at)
        }
        at = bounds.end
        var greedy = true
        if peek == UInt8(ascii: "?") {
            greedy = false
            at += 1
        } else if peek == UInt8(ascii: "+") {
            throw fail("possessive quantifier", at)
        }
        if let n = peek, n == UInt8(ascii: "*") || n == UInt8(ascii: "+") || n == UInt8(ascii: "?")
            || (n == UInt8(ascii: "{") && quantifierBounds(from: at) != nil) {
            throw fail("quantifier follows a quantifier", at)
        }
        return .repetition(atom, min: bounds.min, max: bounds.max, greedy: greedy)
    }

    /// `{m}`, `{m,}` or `{m,n}` starting at `i`; nil when the braces are a literal (PCRE2 10.42 rules).
    private func quantifierBounds(from i: Int) -> (min: Int, max: Int?, end: Int)? {
        var j = i + 1
        func number(_ j: inout Int) -> Int? {
            var v = 0, digits = 0
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 {
                v = min(v * 10 + Int(bytes[j] - 0x30), 1_000_000)
                j += 1; digits += 1
            }
            return digits > 0 ? v : nil
        }
        guard let lo = number(&j) else { return nil }
        guard j < bytes.count else { return nil }
        if bytes[j] == UInt8(ascii: "}") { return (lo, lo, j + 1) }
        guard bytes[j] == UInt8(ascii: ",") else { return nil }
        j += 1
        guard j < bytes.count else { return nil }
        if bytes[j] == UInt8(ascii: "}") { return (lo, nil, j + 1) }
        guard let hi = number(&j), j < bytes.count, bytes[j] == UInt8(ascii: "}") else { return nil }
        return (lo, hi, j + 1)
    }

    private mutating func parseGroup(depth: Int) throws(RegexCompileError) -> RegexNode? {
        let open = at
        at += 1
        let saved = (caseless, dotAll, multiline)
        var captureIndex: Int? = nil
        if peek == UInt8(ascii: "?") {
            at += 1
            switch try parseGroupKind(open: open) {
            case .flagsOnly: return nil
            case .comment: return nil
            case .nonCapturing: break
            case .named(let name):
                groupCount += 1
                captureIndex = groupCount
                names[groupCount] = name
            }
        } else {
            groupCount += 1
            captureIndex = groupCount
        }
        let inner = try parseAlternation(depth: depth + 1)
        guard peek == UInt8(ascii: ")") else { throw fail("missing closing parenthesis", open) }
        at += 1
        (caseless, dotAll, multiline) = saved
        if let index = captureIndex { return .capture(inner, index: index) }
        return .group(inner)
    }

    private enum GroupKind { case nonCapturing, named(String), flagsOnly, comment }

    /// Reads what follows `(?`. Flag settings without ':' change the flags for the rest of the
    /// enclosing group, as in PCRE2.
    private mutating func parseGroupKind(open: Int) throws(RegexCompileError) -> GroupKind {
        guard let c = peek else { throw fail("missing closing parenthesis", open) }
        switch c {
        case UInt8(ascii: ":"): at += 1; return .nonCapturing
        case UInt8(ascii: "#"):
            while let b = peek, b != UInt8(ascii: ")") { at += 1 }
            guard peek != nil else { throw fail("missing ) after (?# comment", open) }
            at += 1
            return .comment
        case UInt8(ascii: "P"):
            at += 1
            guard peek == UInt8(ascii: "<") else { throw fail("(?P=name) back reference or (?P>name) recursion", open) }
            at += 1
            return .named(try parseName(terminator: UInt8(ascii: ">"), open: open))
        case UInt8(ascii: "<"):
            at += 1
            if peek == UInt8(ascii: "=") || peek == UInt8(ascii: "!") { throw fail("lookbehind assertion", open) }
            return .named(try parseName(terminator: UInt8(ascii: ">"), open: open))
        case UInt8(ascii: "'"):
            at += 1
            return .named(try parseName(terminator: UInt8(ascii: "'"), open: open))
        case UInt8(ascii: "="), UInt8(ascii: "!"): throw fail("lookahead assertion", open)
        case UInt8(ascii: ">"): throw fail("atomic group", open)
        case UInt8(ascii: "|"): throw fail("branch reset group", open)
        case UInt8(ascii: "("): throw fail("conditional group", open)
        case UInt8(ascii: "&"), UInt8(ascii: "R"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            throw fail("recursion or subroutine call", open)
        case UInt8(ascii: "C"): throw fail("callout", open)
        default: return try parseFlags(open: open)
        }
    }

    private mutating func parseFlags(open: Int) throws(RegexCompileError) -> GroupKind {
        var on = true
        while let c = peek {
            at += 1
            switch c {
            case UInt8(ascii: "i"): caseless = on
            case UInt8(ascii: "s"): dotAll = on
            case UInt8(ascii: "m"): multiline = on
            case UInt8(ascii: "-") where on: on = false
            case UInt8(ascii: ")"): return .flagsOnly
            case UInt8(ascii: ":"): return .nonCapturing
            default: throw fail("unsupported inline option (?\(Character(Unicode.Scalar(c))))", at - 1)
            }
        }
        throw fail("missing closing parenthesis", open)
    }

    private mutating func parseName(terminator: UInt8, open: Int) throws(RegexCompileError) -> String {
        let start = at
        while let c = peek, c == UInt8(ascii: "_") || ByteSet.word.contains(c) { at += 1 }
        guard at > start, peek == terminator else { throw fail("malformed group name", start) }
        if bytes[start] >= 0x30 && bytes[start] <= 0x39 { throw fail("group name starts with a digit", start) }
        let name = String(decoding: bytes[start..<at], as: UTF8.self)
        at += 1
        if names.values.contains(name) { throw fail("duplicate group name '\(name)'", start) }
        return name
    }

    private mutating func parseEscape() throws(RegexCompileError) -> RegexNode {
        let start = at
        at += 1
        guard let c = peek else { throw fail("\\ at end of pattern", start) }
        at += 1
        switch c {
        case UInt8(ascii: "b"): return .assertion(.wordBoundary)
        case UInt8(ascii: "B"): return .assertion(.notWordBoundary)
        case UInt8(ascii: "A"): return .assertion(.startOfSubject)
        case UInt8(ascii: "z"): return .assertion(.endOfSubject)
        case UInt8(ascii: "Z"): return .assertion(.endOrFinalNewline)
        default:
            at = start
            return .set(try parseEscapedSet(inClass: false))
        }
    }

    /// An escape that stands for a byte or a class, at `at` (which points at the backslash).
    mutating func parseEscapedSet(inClass: Bool) throws(RegexCompileError) -> ByteSet {
        let start = at
        at += 1
        guard let c = peek else { throw fail("\\ at end of pattern", start) }
        at += 1
        let set: ByteSet
        switch c {
        case UInt8(ascii: "d"): return ByteSet.digits
        case UInt8(ascii: "D"): return ByteSet.digits.inverted
        case UInt8(ascii: "w"): return ByteSet.word
        case UInt8(ascii: "W"): return ByteSet.word.inverted
        case UInt8(ascii: "s"): return ByteSet.space
        case UInt8(ascii: "S"): return ByteSet.space.inverted
        case UInt8(ascii: "t"): set = ByteSet(byte: 0x09)
        case UInt8(ascii: "n"): set = ByteSet(byte: 0x0A)
        case UInt8(ascii: "r"): set = ByteSet(byte: 0x0D)
        case UInt8(ascii: "f"): set = ByteSet(byte: 0x0C)
        case UInt8(ascii: "e"): set = ByteSet(byte: 0x1B)
        case UInt8(ascii: "a"): set = ByteSet(byte: 0x07)
        case UInt8(ascii: "b") where inClass: set = ByteSet(byte: 0x08)
        case UInt8(ascii: "x"): set = ByteSet(byte: try parseHex(start: start))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): throw fail("back reference or octal escape \\\(Character(Unicode.Scalar(c)))", start)
        case UInt8(ascii: "Q"), UInt8(ascii: "E"): throw fail("\\Q...\\E quoting", start)
        case UInt8(ascii: "p"), UInt8(ascii: "P"), UInt8(ascii: "X"): throw fail("Unicode property escape", start)
        case UInt8(ascii: "g"), UInt8(ascii: "k"): throw fail("back reference", start)
        case UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "v"), UInt8(ascii: "V"), UInt8(ascii: "R"):
            throw fail("\\h \\v \\R whitespace classes", start)
        case UInt8(ascii: "K"): throw fail("\\K match-start reset", start)
        case UInt8(ascii: "G"): throw fail("\\G anchor", start)
        default:
            if c >= 0x80 || ByteSet.word.contains(c) {
                throw fail("unrecognized escape \\\(Character(Unicode.Scalar(c)))", start)
            }
            set = ByteSet(byte: c)
        }
        return caseless ? set.caseFolded : set
    }

    /// `\xHH` (0 to 2 hex digits) or `\x{H...}` up to 0xFF.
    private mutating func parseHex(start: Int) throws(RegexCompileError) -> UInt8 {
        func hexValue(_ b: UInt8) -> Int? {
            switch b {
            case 0x30...0x39: return Int(b - 0x30)
            case 0x41...0x46: return Int(b - 0x41 + 10)
            case 0x61...0x66: return Int(b - 0x61 + 10)
            default: return nil
            }
        }
        if peek == UInt8(ascii: "{") {
            at += 1
            var v = 0, digits = 0
            while let c = peek, let h = hexValue(c) { v = min(v * 16 + h, 0x10000); at += 1; digits += 1 }
            guard digits > 0, peek == UInt8(ascii: "}") else { throw fail("malformed \\x{...} escape", start) }
            at += 1
            guard v <= 0xFF else { throw fail("\\x{...} above 0xFF in byte mode", start) }
            return UInt8(v)
        }
        var v = 0
        for _ in 0..<2 {
            guard let c = peek, let h = hexValue(c) else { break }
            v = v * 16 + h
            at += 1
        }
        return UInt8(v)
    }

    /// A bracketed class at `at` ('['). Negation applies after case folding, as in PCRE2.
    private mutating func parseClass() throws(RegexCompileError) -> ByteSet {
        let open = at
        at += 1
        var negated = false
        if peek == UInt8(ascii: "^") { negated = true; at += 1 }
        var set = ByteSet()
        var first = true
        while true {
            guard let c = peek else { throw fail("missing terminating ] for character class", open) }
            if c == UInt8(ascii: "]") && !first { at += 1; break }
            first = false
            if c == UInt8(ascii: "["), at + 1 < bytes.count,
               [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[at + 1]) {
                throw fail("POSIX character class", at)
            }
            let (lo, loIsByte) = try classItem()
            guard loIsByte, let low = lo.singleByte, peek == UInt8(ascii: "-"),
                  at + 1 < bytes.count, bytes[at + 1] != UInt8(ascii: "]") else {
                set.formUnion(lo)
                continue
            }
            let dash = at
            at += 1
            let (hi, hiIsByte) = try classItem()
            guard hiIsByte, let high = hi.singleByte else { throw fail("invalid range in character class", dash) }
            guard low <= high else { throw fail("range out of order in character class", dash) }
            set.formUnion(ByteSet(range: low...high))
        }
        if caseless { set = set.caseFolded }
        return negated ? set.inverted : set
    }

    /// One class member: a byte (which may start a range) or an escaped class like \d.
    private mutating func classItem() throws(RegexCompileError) -> (ByteSet, isByte: Bool) {
        let c = bytes[at]
        guard c == UInt8(ascii: "\\") else {
            at += 1
            return (ByteSet(byte: c), true)
        }
        let wasCaseless = caseless
        caseless = false
        defer { caseless = wasCaseless }
        let escape = bytes.count > at + 1 ? bytes[at + 1] : 0
        let set = try parseEscapedSet(inClass: true)
        let isClass = [UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "w"), UInt8(ascii: "W"),
                       UInt8(ascii: "s"), UInt8(ascii: "S")].contains(escape)
        return (set, !isClass)
    }
}
