// JSONBytes.swift
//
// Writes arbitrary bytes as a JSON string without losing any of them: valid UTF-8 passes through,
// '"' and '\' are escaped, control bytes become \u00XX, and every byte of an invalid UTF-8
// sequence becomes a lone surrogate escape \udcXX (the "surrogateescape" convention), so the
// original bytes can be recovered. Does not own any I/O.
//
// Example: the bytes 61 0A FF 22 become "a\u000a\udcff\"".

enum JSONBytes {
    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c < 0x80 {
                appendASCII(c, to: &out)
                i += 1
            } else if let len = validSequenceLength(bytes, i) {
                out.append(contentsOf: bytes[i..<(i + len)])
                i += len
            } else {
                appendEscape(0xDC00 | UInt16(c), to: &out)
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendASCII(_ c: UInt8, to out: inout [UInt8]) {
        switch c {
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0..<0x20, 0x7F: appendEscape(UInt16(c), to: &out)
        default: out.append(c)
        }
    }

    private static func appendEscape(_ unit: UInt16, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((unit >> UInt16(shift)) & 0xF)])
        }
    }

    /// Length of a well-formed UTF-8 sequence starting at `i` (no overlongs, no surrogates,
    /// nothing above U+10FFFF), or nil.
    private static func validSequenceLength(_ b: [UInt8], _ i: Int) -> Int? {
        let c = b[i]
        let len: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return nil
        }
        guard i + len <= b.count else { return nil }
        guard b[i + 1] >= lo && b[i + 1] <= hi else { return nil }
        for k in 2..<len where b[i + k] < 0x80 || b[i + k] > 0xBF { return nil }
        return len
    }
}
