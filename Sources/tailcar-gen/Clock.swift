// Clock.swift
//
// Time for the generator: the monotonic clock that paces writing, the wall clock used only with
// `--real-time`, and the record timestamps rendered as text. Owns calendar arithmetic (days to civil
// date, UTC+08:00 like the Alibaba Cloud examples) and a per-second cache of the rendered date;
// does not decide which timestamp a record gets (see Generator.swift).

import Glibc

enum Clock {
    static func monotonicNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    static func realtimeMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec / 1000)
    }

    /// Sleeps until the monotonic clock reads `deadline`; returns at once if it already has.
    static func sleep(untilMonotonicNanos deadline: UInt64) {
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }
}

/// Renders microsecond timestamps in the zone UTC+08:00. The date and time of day are rendered once
/// per second into a small cache; the fractional part is written per record. Owned by one
/// RecordFormatter, which frees it with `release()`; a struct so the hot path has no class accesses.
struct TimestampRenderer {
    /// 2026-01-01T00:00:00+08:00, the start of deterministic timestamps.
    static let deterministicStartMicros: Int64 = 1_767_196_800 * 1_000_000
    private static let zoneOffsetSeconds: Int64 = 8 * 3600
    private static let monthNames: [UInt8] = Array("JanFebMarAprMayJunJulAugSepOctNovDec".utf8)

    private var cachedSecond: Int64 = .min
    private var micros: Int = 0
    /// "YYYY-MM-DD" at 0, "HH:MM:SS" at 10, "DD/Mon/YYYY:HH:MM:SS" at 18 (38 bytes).
    private let cache = UnsafeMutablePointer<UInt8>.allocate(capacity: 40)

    func release() { cache.deallocate() }

    @inline(__always)
    mutating func set(micros value: Int64) {
        let second = value / 1_000_000
        micros = Int(value - second * 1_000_000)
        if second != cachedSecond { render(second: second) }
    }

    /// "2026-01-01T00:00:00.123+08:00"
    @inline(__always)
    func appendISO(to buffer: inout RecordBuffer) {
        buffer.append(cache, count: 10)
        buffer.append(UInt8(ascii: "T"))
        buffer.append(cache + 10, count: 8)
        buffer.append(UInt8(ascii: "."))
        buffer.appendDecimal(micros / 1000, width: 3)
        appendZone(to: &buffer, colon: true)
    }

    /// "2026-01-01 00:00:00.123" (milliseconds) or "2026-01-01 00:00:00.123456" (microseconds)
    @inline(__always)
    func appendPlain(to buffer: inout RecordBuffer, microseconds: Bool) {
        buffer.append(cache, count: 10)
        buffer.append(UInt8(ascii: " "))
        buffer.append(cache + 10, count: 8)
        buffer.append(UInt8(ascii: "."))
        if microseconds {
            buffer.appendDecimal(micros, width: 6)
        } else {
            buffer.appendDecimal(micros / 1000, width: 3)
        }
    }

    /// nginx `$time_local`: "01/Jan/2026:00:00:00 +0800"
    @inline(__always)
    func appendNginxLocal(to buffer: inout RecordBuffer) {
        buffer.append(cache + 18, count: 20)
        buffer.append(UInt8(ascii: " "))
        appendZone(to: &buffer, colon: false)
    }

    @inline(__always)
    private func appendZone(to buffer: inout RecordBuffer, colon: Bool) {
        buffer.append(UInt8(ascii: "+"))
        buffer.append(UInt8(ascii: "0"))
        buffer.append(UInt8(ascii: "8"))
        if colon { buffer.append(UInt8(ascii: ":")) }
        buffer.append(UInt8(ascii: "0"))
        buffer.append(UInt8(ascii: "0"))
    }

    private mutating func render(second: Int64) {
        cachedSecond = second
        let local = second + Self.zoneOffsetSeconds
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let ofDay = Int(local - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let cache = self.cache
        var at = 0
        func put(_ value: Int, _ width: Int) {
            var rest = value
            for index in stride(from: width - 1, through: 0, by: -1) {
                cache[at + index] = UInt8(truncatingIfNeeded: rest % 10) + 0x30
                rest /= 10
            }
            at += width
        }
        func put(_ byte: Character) { cache[at] = byte.asciiValue!; at += 1 }
        put(year, 4); put("-"); put(month, 2); put("-"); put(day, 2)
        put(ofDay / 3600, 2); put(":"); put(ofDay / 60 % 60, 2); put(":"); put(ofDay % 60, 2)
        put(day, 2); put("/")
        for index in 0..<3 { cache[at] = Self.monthNames[(month - 1) * 3 + index]; at += 1 }
        put("/"); put(year, 4); put(":")
        put(ofDay / 3600, 2); put(":"); put(ofDay / 60 % 60, 2); put(":"); put(ofDay % 60, 2)
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month 1...12, day 1...31).
func civilDate(daysSinceEpoch days: Int64) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
}
