// Random.swift
//
// The generator's only source of randomness: a seeded xorshift64* stream, seeded through splitmix64
// so that nearby seeds give unrelated streams. Owns nothing else; never reads the clock or /dev/urandom,
// so a seed fully determines the bytes written.

/// splitmix64 (Steele, Lea, Flood 2014): turns any seed, even 0, into a well-mixed 64-bit state.
func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// xorshift64* (Vigna 2014): small, fast, good enough for picking log vocabulary.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) {
        var mixer = seed
        let first = splitMix64(&mixer)
        state = first == 0 ? 0x2545_F491_4F6C_DD1D : first
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// A value in 0..<bound (bound > 0), by multiply-shift; the tiny bias is irrelevant here.
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: ((next() >> 32) &* UInt64(bound)) >> 32)
    }
}
