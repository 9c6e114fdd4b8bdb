// CityHash128.swift
//
// Google's CityHash128 as of its version 1.0.2, the one ClickHouse pinned for the checksum in front of each
// compressed block (later CityHash versions hash differently, and a server refuses a block whose checksum
// it cannot reproduce). Written from the published algorithm (MIT, Google 2011); only the 128-bit hash and
// what it needs. Owns nothing but the arithmetic; ClickHouseBlockCompressor decides what is hashed.

enum CityHash128 {
    private static let k0: UInt64 = 0xc3a5_c85c_97cb_3127
    private static let k1: UInt64 = 0xb492_b66f_be98_f273
    private static let k2: UInt64 = 0x9ae1_6a3b_2f90_404f
    private static let k3: UInt64 = 0xc949_d7c7_509e_6557

    /// The hash of `bytes`: (low, high), written low first, little-endian, where ClickHouse puts a checksum.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> (low: UInt64, high: UInt64) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return withSeed(nil, 0, seed: (k0, k1)) }
        let count = bytes.count
        if count >= 16 {
            return withSeed(base + 16, count - 16, seed: (load64(base) ^ k3, load64(base + 8)))
        }
        if count >= 8 {
            return withSeed(nil, 0, seed: (load64(base) ^ (UInt64(count) &* k0), load64(base + count - 8) ^ k1))
        }
        return withSeed(base, count, seed: (k0, k1))
    }

    private static func withSeed(_ start: UnsafeRawPointer?, _ length: Int,
                                 seed: (UInt64, UInt64)) -> (low: UInt64, high: UInt64) {
        guard let start, length >= 128 else { return murmur(start, length, seed: seed) }
        var s = start
        var len = length
        var x = seed.0
        var y = seed.1
        var z = UInt64(len) &* k1
        var v: (UInt64, UInt64) = (0, 0)
        var w: (UInt64, UInt64) = (0, 0)
        v.0 = rotate(y ^ k1, 49) &* k1 &+ load64(s)
        v.1 = rotate(v.0, 42) &* k1 &+ load64(s + 8)
        w.0 = rotate(y &+ z, 35) &* k1 &+ x
        w.1 = rotate(x &+ load64(s + 88), 53) &* k1
        repeat {
            for _ in 0..<2 {
                x = rotate(x &+ y &+ v.0 &+ load64(s + 16), 37) &* k1
                y = rotate(y &+ v.1 &+ load64(s + 48), 42) &* k1
                x ^= w.1
                y ^= v.0
                z = rotate(z ^ w.0, 33)
                v = weakHash32(s, v.1 &* k1, x &+ w.0)
                w = weakHash32(s + 32, z &+ w.1, y)
                swap(&z, &x)
                s += 64
            }
            len -= 128
        } while len >= 128
        y = y &+ rotate(w.0, 37) &* k0 &+ z
        x = x &+ rotate(v.0 &+ z, 49) &* k0
        var tailDone = 0
        while tailDone < len {
            tailDone += 32
            y = rotate(y &- x, 42) &* k0 &+ v.1
            w.0 = w.0 &+ load64(s + len - tailDone + 16)
            x = rotate(x, 49) &* k0 &+ w.0
            w.0 = w.0 &+ v.0
            v = weakHash32(s + len - tailDone, v.0, v.1)
        }
        x = hash16(x, v.0)
        y = hash16(y, w.0)
        return (hash16(x &+ v.1, w.1) &+ y, hash16(x &+ w.1, y &+ v.1))
    }

    /// Inputs under 128 bytes.
    private static func murmur(_ start: UnsafeRawPointer?, _ length: Int, seed: (UInt64, UInt64)) -> (low: UInt64, high: UInt64) {
        var a = seed.0
        var b = seed.1
        var c: UInt64
        var d: UInt64
        if length <= 16 {
            a = shiftMix(a &* k1) &* k1
            c = b &* k1 &+ hash0to16(start, length)
            d = shiftMix(a &+ (length >= 8 ? load64(start!) : c))
        } else {
            var s = start!
            var left = length - 16
            c = hash16(load64(s + length - 8) &+ k1, a)
            d = hash16(b &+ UInt64(length), c &+ load64(s + length - 16))
            a = a &+ d
            repeat {
                a ^= shiftMix(load64(s) &* k1) &* k1
                a = a &* k1
                b ^= a
                c ^= shiftMix(load64(s + 8) &* k1) &* k1
                c = c &* k1
                d ^= c
                s += 16
                left -= 16
            } while left > 0
        }
        a = hash16(a, c)
        b = hash16(d, b)
        return (a ^ b, hash16(b, a))
    }

    private static func hash0to16(_ start: UnsafeRawPointer?, _ length: Int) -> UInt64 {
        guard let s = start, length > 0 else { return k2 }
        if length > 8 {
            let a = load64(s)
            let b = load64(s + length - 8)
            return hash16(a, rotate(b &+ UInt64(length), length)) ^ b
        }
        if length >= 4 {
            let a = UInt64(load32(s))
            return hash16(UInt64(length) &+ (a << 3), UInt64(load32(s + length - 4)))
        }
        let a = UInt32(s.load(as: UInt8.self))
        let b = UInt32(s.load(fromByteOffset: length >> 1, as: UInt8.self))
        let c = UInt32(s.load(fromByteOffset: length - 1, as: UInt8.self))
        let y = a &+ (b << 8)
        let z = UInt32(length) &+ (c << 2)
        return shiftMix(UInt64(y) &* k2 ^ UInt64(z) &* k3) &* k2
    }

    private static func weakHash32(_ s: UnsafeRawPointer, _ a: UInt64, _ b: UInt64) -> (UInt64, UInt64) {
        let w = load64(s), x = load64(s + 8), y = load64(s + 16), z = load64(s + 24)
        var a = a &+ w
        var b = rotate(b &+ a &+ z, 21)
        let c = a
        a = a &+ x
        a = a &+ y
        b = b &+ rotate(a, 44)
        return (a &+ z, b &+ c)
    }

    private static func hash16(_ u: UInt64, _ v: UInt64) -> UInt64 {
        let multiplier: UInt64 = 0x9ddf_ea08_eb38_2d69
        var a = (u ^ v) &* multiplier
        a ^= a >> 47
        var b = (v ^ a) &* multiplier
        b ^= b >> 47
        return b &* multiplier
    }

    @inline(__always) private static func rotate(_ value: UInt64, _ shift: Int) -> UInt64 {
        shift == 0 ? value : (value >> UInt64(shift)) | (value << UInt64(64 - shift))
    }

    @inline(__always) private static func shiftMix(_ value: UInt64) -> UInt64 { value ^ (value >> 47) }

    @inline(__always) private static func load64(_ pointer: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
    }

    @inline(__always) private static func load32(_ pointer: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self))
    }
}
