// RetryAfter.swift
//
// Reading an HTTP `Retry-After` header (RFC 9110, 10.2.3) as a delay: delay-seconds (`120`), or an
// HTTP-date in any of the three forms a recipient must accept (IMF-fixdate `Wed, 21 Oct 2015 07:28:00 GMT`,
// obsolete RFC 850 `Wednesday, 21-Oct-15 07:28:00 GMT`, asctime `Wed Oct 21 07:28:00 2015`), measured
// against the wall clock. The delay is clamped to `maximumMilliseconds`, so a server cannot park a flusher
// for a day; a date in the past means no wait. Owns parsing and clamping; the back-off that honours the
// delay is the flushers'.

enum RetryAfter {
    /// The longest wait a server can ask for; longer asks wait this long (then the batch is tried again).
    static let maximumMilliseconds: UInt64 = 300_000

    /// The delay `value` asks for, in ms, clamped to `maximumMilliseconds`; nil when absent or unreadable.
    static func milliseconds(_ value: String?, nowNanoseconds: UInt64 = wallClockNanoseconds()) -> UInt64? {
        guard let value else { return nil }
        let text = value.trimmingWhitespace
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            guard let seconds = UInt64(text) else { return maximumMilliseconds }
            return seconds >= maximumMilliseconds / 1000 ? maximumMilliseconds : seconds * 1000
        }
        let now = Int64(clamping: nowNanoseconds / 1_000_000)
        guard let date = httpDateSeconds(Substring(text), nowSeconds: now / 1000) else { return nil }
        let wait = date * 1000 - now
        return wait <= 0 ? 0 : min(UInt64(wait), maximumMilliseconds)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since the epoch of an HTTP-date; `nowSeconds` places RFC 850's two-digit years.
    static func httpDateSeconds(_ text: Substring, nowSeconds: Int64) -> Int64? {
        let tokens = text.split(separator: " ")
        let day: Substring, month: Substring, year: Int, clock: Substring
        switch tokens.count {
        case 6 where tokens[5] == "GMT" && tokens[0].hasSuffix(","):
            guard let fullYear = Int(tokens[3]), tokens[3].count == 4 else { return nil }
            (day, month, year, clock) = (tokens[1], tokens[2], fullYear, tokens[4])
        case 4 where tokens[3] == "GMT" && tokens[0].hasSuffix(","):
            let parts = tokens[1].split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].count == 2, let shortYear = Int(parts[2]) else { return nil }
            // RFC 9110: a two-digit year more than 50 years ahead is the most recent such year in the past.
            let thisYear = Int(1970 + nowSeconds / 31_556_952)
            var fullYear = thisYear - thisYear % 100 + shortYear
            if fullYear > thisYear + 50 { fullYear -= 100 }
            (day, month, year, clock) = (parts[0], parts[1], fullYear, tokens[2])
        case 5:
            guard let fullYear = Int(tokens[4]), tokens[4].count == 4 else { return nil }
            (day, month, year, clock) = (tokens[2], tokens[1], fullYear, tokens[3])
        default:
            return nil
        }
        guard let monthIndex = months.firstIndex(where: { $0 == month }), (1...2).contains(day.count),
              let dayNumber = Int(day), dayNumber >= 1,
              dayNumber <= CivilTime.daysInMonth(year: year, month: monthIndex + 1) else { return nil }
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), let second = Int(parts[2]),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = CivilTime.daysFromCivil(year: year, month: monthIndex + 1, day: dayNumber)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
