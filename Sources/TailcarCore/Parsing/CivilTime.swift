// CivilTime.swift
//
// Calendar arithmetic and fixed UTC offsets, by hand: no Foundation, no mktime, no TZ environment.
// Owns days-from-civil (proleptic Gregorian), month lengths and the parsing of offsets such as
// `GMT+08:00`, `UTC-05:00`, `+0800`, `+08:00`, `Z`. Does not own format directives (TimeFormat.swift).

enum CivilTime {
    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    ///   (1970, 1, 1) -> 0     (2000, 3, 1) -> 11017     (1969, 12, 31) -> -1
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Month and day of the `dayOfYear`-th day (1-based) of `year`, or nil when out of range.
    static func monthDay(year: Int, dayOfYear: Int) -> (month: Int, day: Int)? {
        var remaining = dayOfYear
        for month in 1...12 {
            let length = daysInMonth(year: year, month: month)
            if remaining <= length { return remaining >= 1 ? (month, remaining) : nil }
            remaining -= length
        }
        return nil
    }
}

/// A fixed offset from UTC, in seconds east (UTC+08:00 is 28800).
public struct UTCOffset: Sendable, Equatable {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public static let utc = UTCOffset(seconds: 0)

    /// Parses a configured zone: `UTC`, `GMT`, `Z`, optionally followed by a signed offset, or a bare one:
    /// `GMT+08:00`, `UTC-05:00`, `UTC+8`, `+0800`, `+08:00`, `-05`. Offsets beyond 18 hours are refused.
    public init(parsing text: String) throws(ParserConfigError) {
        let bytes = Array(text.utf8)
        let parsed = bytes.withUnsafeBytes { raw -> Int? in
            var index = 0
            for prefix in ["UTC", "GMT", "Z"] {
                let name = Array(prefix.utf8)
                if raw.count >= name.count && zip(raw.prefix(name.count), name).allSatisfy({ $0 == $1 }) {
                    index = name.count
                    break
                }
            }
            if index == raw.count { return index > 0 ? 0 : nil }
            guard let offset = UTCOffset.scanSigned(raw, &index, lenient: true), index == raw.count else {
                return nil
            }
            return offset
        }
        guard let parsed else { throw .invalidTimezone(text) }
        self.seconds = parsed
    }

    /// At a sign: `+hh`, `+hhmm`, `+hh:mm` (and with `lenient`, `+h` / `+h:mm`). Returns seconds east.
    static func scanSigned(_ raw: UnsafeRawBufferPointer, _ index: inout Int, lenient: Bool) -> Int? {
        guard index < raw.count, raw[index] == 0x2B || raw[index] == 0x2D else { return nil }
        let negative = raw[index] == 0x2D
        var cursor = index + 1
        var digits = 0
        var hours = 0
        while cursor < raw.count, digits < 2, raw[cursor] >= 0x30 && raw[cursor] <= 0x39 {
            hours = hours * 10 + Int(raw[cursor] - 0x30)
            digits += 1
            cursor += 1
        }
        guard digits == 2 || (lenient && digits == 1) else { return nil }
        var minutes = 0
        if cursor < raw.count, raw[cursor] == 0x3A { cursor += 1 }
        let minuteStart = cursor
        while cursor < raw.count, cursor - minuteStart < 2, raw[cursor] >= 0x30 && raw[cursor] <= 0x39 {
            minutes = minutes * 10 + Int(raw[cursor] - 0x30)
            cursor += 1
        }
        guard cursor - minuteStart == 0 || cursor - minuteStart == 2 else { return nil }
        guard cursor - minuteStart > 0 || raw[cursor - 1] != 0x3A else { return nil }
        guard hours <= 18, minutes < 60 else { return nil }
        index = cursor
        let total = hours * 3600 + minutes * 60
        return negative ? -total : total
    }
}
