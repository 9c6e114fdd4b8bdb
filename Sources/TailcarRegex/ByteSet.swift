// ByteSet.swift
//
// A set of bytes (256 bits) and the ASCII classes of the supported syntax (\d \w \s, '.').
// Owns class arithmetic and ASCII case folding; does not own parsing or matching.

/// 256 bits, one per byte value. Classes are ASCII: bytes 0x80 and above are only ever members
/// through negation or '.'.
struct ByteSet: Hashable, Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    static let all = ByteSet(w0: ~0, w1: ~0, w2: ~0, w3: ~0)
    static let digits = ByteSet(range: 0x30...0x39)
    /// PCRE2's \s in its default tables: \t \n \v \f \r and space.
    static let space: ByteSet = {
        var s = ByteSet(range: 0x09...0x0D)
        s.insert(0x20)
        return s
    }()
    static let word: ByteSet = {
        var s = ByteSet(range: 0x30...0x39)
        s.formUnion(ByteSet(range: 0x41...0x5A))
        s.formUnion(ByteSet(range: 0x61...0x7A))
        s.insert(0x5F)
        return s
    }()
    /// '.' without (?s): everything but '\n'.
    static let dot: ByteSet = {
        var s = ByteSet.all
        s.remove(0x0A)
        return s
    }()

    init() {}
    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }
    init(range: ClosedRange<UInt8>) {
        for b in range { insert(b) }
    }
    init(byte: UInt8) { insert(byte) }

    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return w0 & bit != 0
        case 1: return w1 & bit != 0
        case 2: return w2 & bit != 0
        default: return w3 & bit != 0
        }
    }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: w0 |= bit
        case 1: w1 |= bit
        case 2: w2 |= bit
        default: w3 |= bit
        }
    }

    mutating func remove(_ b: UInt8) {
        let bit = ~(UInt64(1) << UInt64(b & 63))
        switch b >> 6 {
        case 0: w0 &= bit
        case 1: w1 &= bit
        case 2: w2 &= bit
        default: w3 &= bit
        }
    }

    mutating func formUnion(_ o: ByteSet) {
        w0 |= o.w0; w1 |= o.w1; w2 |= o.w2; w3 |= o.w3
    }

    var inverted: ByteSet { ByteSet(w0: ~w0, w1: ~w1, w2: ~w2, w3: ~w3) }
    var isEmpty: Bool { (w0 | w1 | w2 | w3) == 0 }
    var count: Int { w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount }
    func isDisjoint(with o: ByteSet) -> Bool {
        (w0 & o.w0) | (w1 & o.w1) | (w2 & o.w2) | (w3 & o.w3) == 0
    }

    /// Adds the other ASCII case of every ASCII letter in the set ('a' <-> 'A'). Nothing else folds.
    var caseFolded: ByteSet {
        var s = self
        for b: UInt8 in 0x41...0x5A where contains(b) || contains(b + 0x20) {
            s.insert(b)
            s.insert(b + 0x20)
        }
        return s
    }

    /// The only member, when there is exactly one.
    var singleByte: UInt8? {
        guard count == 1 else { return nil }
        for b in 0...255 where contains(UInt8(b)) { return UInt8(b) }
        return nil
    }

    /// The only non-member, when there is exactly one (a run over it can scan with memchr).
    var singleExcluded: UInt8? { inverted.singleByte }
}
