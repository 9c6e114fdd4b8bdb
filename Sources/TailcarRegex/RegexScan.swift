// RegexScan.swift
//
// The inner loops of runs such as `\S+`, `[^"]+` and `.*`: find where a run of set members ends,
// eight bytes per step with SWAR arithmetic on unaligned 64-bit loads, never reading past the
// limit. Owns only these byte loops; the matcher decides which one a run uses.
//
// Little-endian: the lowest flagged byte of a word is the first in memory, and it is always exact
// (borrows only ever flag bytes above a true hit).
#if canImport(Glibc)
import Glibc
#endif

enum RegexScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    /// After this many bytes without a hit, the rest goes to memchr (faster on long runs).
    private static let inlineSpan = 64

    @inline(__always)
    private static func load(_ s: UnsafePointer<UInt8>, _ p: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(s + p).loadUnaligned(as: UInt64.self))
    }

    /// The first offset in [from, limit) holding `byte`, else `limit`.
    @inline(__always)
    static func firstByte(_ byte: UInt8, _ s: UnsafePointer<UInt8>, _ from: Int, _ limit: Int) -> Int {
        let pattern = UInt64(byte) &* ones
        var p = from
        let inlineEnd = min(limit, from &+ inlineSpan)
        while p &+ 8 <= inlineEnd {
            let v = load(s, p) ^ pattern
            let hit = (v &- ones) & ~v & highs
            if hit != 0 { return p &+ hit.trailingZeroBitCount &>> 3 }
            p &+= 8
        }
        if limit &- p > 8 {
            guard let found = memchr(s + p, Int32(byte), limit &- p) else { return limit }
            return s.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        while p < limit && s[p] != byte { p &+= 1 }
        return p
    }

    /// Skips, eight bytes at a time, the bytes that cannot end the run because they are at or
    /// above `bound` (every non-member of `table` is below it). Stops at the first byte below the
    /// bound that is not a member, or at the last stretch shorter than a word; the caller finishes
    /// that stretch with the table.
    @inline(__always)
    static func firstBelow(_ bound: UInt8, _ table: UnsafePointer<UInt8>, _ s: UnsafePointer<UInt8>,
                           _ from: Int, _ limit: Int) -> Int {
        let sub = UInt64(bound) &* ones
        var p = from
        while p &+ 8 <= limit {
            let x = load(s, p)
            let hit = (x &- sub) & ~x & highs
            if hit == 0 { p &+= 8; continue }
            let q = p &+ hit.trailingZeroBitCount &>> 3
            if table[Int(s[q])] == 0 { return q }
            p = q &+ 1
        }
        return p
    }
}
