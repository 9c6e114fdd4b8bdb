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

    /// The first offset in [from, limit) holding `byte`, else `limit`. Words are loaded while they
    /// end within `end` (the input's end, at or past `limit`).
    @inline(__always)
    static func firstByte(_ byte: UInt8, _ s: UnsafePointer<UInt8>, _ from: Int, _ limit: Int,
                          _ end: Int) -> Int {
        let pattern = UInt64(byte) &* ones
        var p = from
        let inlineEnd = min(limit, from &+ inlineSpan)
        while p < inlineEnd && p &+ 8 <= end {
            let v = load(s, p) ^ pattern
            let hit = (v &- ones) & ~v & highs
            if hit != 0 { return min(p &+ hit.trailingZeroBitCount &>> 3, limit) }
            p &+= 8
        }
        if p >= limit { return limit }
        if limit &- p > 8 {
            guard let found = memchr(s + p, Int32(byte), limit &- p) else { return limit }
            return s.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        while p < limit && s[p] != byte { p &+= 1 }
        return p
    }

    /// The first offset in [from, limit) whose byte lies outside low...high (high < 0x80), else
    /// `limit`.
    @inline(__always)
    static func endOfRange(_ low: UInt8, _ high: UInt8, _ s: UnsafePointer<UInt8>, _ from: Int,
                           _ limit: Int, _ end: Int) -> Int {
        let under = UInt64(low) &* ones
        let over = UInt64(0x7F &- high) &* ones
        var p = from
        while p < limit && p &+ 8 <= end {
            let x = load(s, p)
            let hit = (((x &- under) & ~x) | ((x &+ over) | x)) & highs
            if hit != 0 { return min(p &+ hit.trailingZeroBitCount &>> 3, limit) }
            p &+= 8
        }
        if p >= limit { return limit }
        let width = high &- low
        while p < limit && s[p] &- low <= width { p &+= 1 }
        return p
    }

    /// Skips, eight bytes at a time, the bytes that cannot end the run because they are at or
    /// above `bound` (every non-member of `table` is below it). Returns the first byte below the
    /// bound that is not a member, the limit, or where the words ran out before the input's end;
    /// the caller finishes from there with the table.
    @inline(__always)
    static func firstBelow(_ bound: UInt8, _ table: UnsafePointer<UInt8>, _ s: UnsafePointer<UInt8>,
                           _ from: Int, _ limit: Int, _ end: Int) -> Int {
        let sub = UInt64(bound) &* ones
        var p = from
        while p < limit && p &+ 8 <= end {
            let x = load(s, p)
            let hit = (x &- sub) & ~x & highs
            if hit == 0 { p &+= 8; continue }
            let q = p &+ hit.trailingZeroBitCount &>> 3
            if q >= limit { return limit }
            if table[Int(s[q])] == 0 { return q }
            p = q &+ 1
        }
        return min(p, limit)
    }
}
