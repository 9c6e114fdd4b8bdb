// ByteScan.swift
//
// Finding the next interesting byte in a run of uninteresting ones, eight bytes at a time (SWAR: one
// 64-bit word, no SIMD intrinsics), for the parsers' inner loops. Owns the bit tricks; does not own what
// the bytes mean.
//
// A byte of `w ^ (b * 0x01..01)` is zero exactly where `w` holds b. `(x - 0x01..01) & ~x & 0x80..80`
// flags zero bytes; a borrow can flag a byte above a true zero too, but never below one, so the lowest
// flag is always exact.

enum ByteScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080
    static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// Whether some byte of `word` equals the byte `pattern` repeats (the borrow trick: exact for "is
    /// there one", though not for where).
    @inline(__always)
    static func contains(_ word: UInt64, _ pattern: UInt64) -> Bool {
        let x = word ^ pattern
        return (x &- ones) & ~x & highs != 0
    }

    /// Whether some byte of `first` or `second` equals the byte `pattern` repeats.
    @inline(__always)
    static func contains(_ first: UInt64, _ second: UInt64, _ pattern: UInt64) -> Bool {
        let x = first ^ pattern
        let y = second ^ pattern
        return ((x &- ones) & ~x | (y &- ones) & ~y) & highs != 0
    }

    /// The high bit of every byte of `word` equal to the byte `pattern` repeats (`b * ones`), and no other
    /// bit. Exact in every byte, unlike the borrow trick in `firstOf`: `(x & 0x7F) + 0x7F` cannot carry
    /// out of its byte, and sets the high bit exactly when the low seven bits of `x` are not all zero.
    ///     word = "a|b||c.."  pattern = "||||||||"  ->  0x80 in bytes 1, 3 and 4
    @inline(__always)
    static func matches(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = word ^ pattern
        return ~(((x & lows) &+ lows) | x) & highs
    }

    /// The first index in `from..<end` holding `a` or `b`; `end` when there is none.
    @inline(__always)
    static func firstOf(_ a: UInt8, _ b: UInt8, in raw: UnsafeRawBufferPointer, from: Int, end: Int) -> Int {
        let patternA = UInt64(a) &* ones
        let patternB = UInt64(b) &* ones
        var index = from
        while index + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let xa = word ^ patternA
            let xb = word ^ patternB
            let found = ((xa &- ones) & ~xa | (xb &- ones) & ~xb) & highs
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < end {
            let byte = raw[index]
            if byte == a || byte == b { return index }
            index += 1
        }
        return end
    }

    /// The first index at or after `from` holding `"`, `\` or a control byte (below 0x20), and with
    /// `orNonASCII` also a byte of 0x80 or above: where a JSON string's plain run ends, for the reader
    /// (which passes UTF-8 through) and the writer (which checks it). `raw.count` when there is none.
    /// A control byte borrows into its high bit when 0x20 is subtracted while its own high bit is clear;
    /// the lowest flag of the tests is exact.
    @inline(__always)
    static func firstJSONStringSpecial(in raw: UnsafeRawBufferPointer, from: Int, orNonASCII: Bool) -> Int {
        let nonASCII: UInt64 = orNonASCII ? ~0 : 0
        var index = from
        while index + 8 <= raw.count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let quote = word ^ (0x22 &* ones)
            let backslash = word ^ (0x5C &* ones)
            let found = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- 0x20 &* ones) & ~word
                         | word & nonASCII) & highs
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < raw.count {
            let byte = raw[index]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 || (orNonASCII && byte >= 0x80) { return index }
            index += 1
        }
        return index
    }
}
