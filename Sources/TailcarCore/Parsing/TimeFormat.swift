// TimeFormat.swift
//
// A strftime-style format compiled once into steps, then matched against bytes (strptime semantics:
// a prefix of the input must match; bytes after it are ignored). Owns the directives; does not own
// calendar arithmetic (CivilTime.swift) or what a record does with the time (TimestampParser.swift).
//
// Directives: %Y %y %m %d %e %j %H %I %M %S %f %p %b %B %h %a %A %z %Z %s %% %n %t, and %F (%Y-%m-%d),
// %T (%H:%M:%S), %D (%m/%d/%y), %R (%H:%M). Numbers take up to their width in digits (strptime leniency:
// "%H" reads "7" and "07"). Whitespace in the format matches any run of whitespace, even none. %f reads
// 1 to 9 digits as a fraction (more are read and ignored); %z reads Z, +hh, +hhmm, +hh:mm; %Z reads a
// name: UTC, GMT, UT or Z (optionally with an offset, "GMT+08:00") set the offset, other names are skipped
// and leave the configured zone. %s reads seconds since the epoch; other fields are then ignored.
//
//   "%d/%b/%Y:%H:%M:%S %z" on "10/Oct/2000:13:55:36 -0700"  ->  971211336 s
//   "%Y-%m-%d %H:%M:%S.%f" on "2024-02-29 23:59:59.5" (zone +08:00)  ->  1709222399 s, 500000000 ns

enum TimeStep: Equatable {
    case literal(UInt8)
    case whitespace
    case year, twoDigitYear, month, day, dayOfYear, hour24, hour12, minute, second
    case fraction, meridiem, monthName, weekdayName, zoneOffset, zoneName, epochSeconds
}

/// A seconds-and-nanoseconds instant since 1970-01-01T00:00:00Z.
public struct ParsedTime: Sendable, Equatable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

public struct TimeFormat: Sendable, Equatable {
    let steps: [TimeStep]

    public init(_ format: String) throws(ParserConfigError) {
        var steps: [TimeStep] = []
        let bytes = Array(format.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x25 {
                guard index + 1 < bytes.count, let expanded = Self.directive(bytes[index + 1]) else {
                    throw .unknownTimeDirective(format: format, offset: index)
                }
                steps.append(contentsOf: expanded)
                index += 2
            } else {
                steps.append(Self.isSpace(byte) ? .whitespace : .literal(byte))
                index += 1
            }
        }
        self.steps = steps
    }

    private static func directive(_ letter: UInt8) -> [TimeStep]? {
        switch UnicodeScalar(letter) {
        case "Y": return [.year]
        case "y": return [.twoDigitYear]
        case "m": return [.month]
        case "d", "e": return [.day]
        case "j": return [.dayOfYear]
        case "H", "k": return [.hour24]
        case "I", "l": return [.hour12]
        case "M": return [.minute]
        case "S": return [.second]
        case "f": return [.fraction]
        case "p", "P": return [.meridiem]
        case "b", "B", "h": return [.monthName]
        case "a", "A": return [.weekdayName]
        case "z": return [.zoneOffset]
        case "Z": return [.zoneName]
        case "s": return [.epochSeconds]
        case "%": return [.literal(0x25)]
        case "n", "t": return [.whitespace]
        case "F": return [.year, .literal(0x2D), .month, .literal(0x2D), .day]
        case "T": return [.hour24, .literal(0x3A), .minute, .literal(0x3A), .second]
        case "D": return [.month, .literal(0x2F), .day, .literal(0x2F), .twoDigitYear]
        case "R": return [.hour24, .literal(0x3A), .minute]
        default: return nil
        }
    }

    @inline(__always) static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    /// The instant `bytes` names, reading times without a zone in `defaultOffset`; nil when it does not match
    /// or names an impossible date (2023-02-29, 24:00).
    public func parse(_ bytes: UnsafeRawBufferPointer, defaultOffset: UTCOffset = .utc) -> ParsedTime? {
        var fields = TimeFields()
        var reader = TimeReader(bytes: bytes)
        for step in steps {
            guard reader.read(step, into: &fields) else { return nil }
        }
        return fields.instant(defaultOffset: defaultOffset)
    }
}

/// What the steps found, before it becomes an instant.
struct TimeFields {
    var year = 1970
    var month: Int?
    var day: Int?
    var dayOfYear: Int?
    var hour = 0
    var minute = 0
    var second = 0
    var nanoseconds: UInt32 = 0
    var twelveHour = false
    var afternoon: Bool?
    var offset: Int?
    var epoch: Int64?

    func instant(defaultOffset: UTCOffset) -> ParsedTime? {
        if let epoch { return ParsedTime(seconds: epoch, nanoseconds: nanoseconds) }
        var hour24 = hour
        if twelveHour {
            guard hour >= 1 && hour <= 12 else { return nil }
            hour24 = hour % 12 + (afternoon == true ? 12 : 0)
        } else if let afternoon {
            guard hour <= 12 else { return nil }
            hour24 = hour % 12 + (afternoon ? 12 : 0)
        }
        guard hour24 < 24, minute < 60, second <= 60 else { return nil }
        var resolvedMonth = month ?? 1
        var resolvedDay = day ?? 1
        if month == nil && day == nil, let dayOfYear {
            guard let found = CivilTime.monthDay(year: year, dayOfYear: dayOfYear) else { return nil }
            (resolvedMonth, resolvedDay) = found
        }
        guard resolvedMonth >= 1 && resolvedMonth <= 12, resolvedDay >= 1,
              resolvedDay <= CivilTime.daysInMonth(year: year, month: resolvedMonth) else { return nil }
        let days = CivilTime.daysFromCivil(year: year, month: resolvedMonth, day: resolvedDay)
        let local = Int64(days) * 86_400 + Int64(hour24 * 3600 + minute * 60 + second)
        return ParsedTime(seconds: local - Int64(offset ?? defaultOffset.seconds), nanoseconds: nanoseconds)
    }
}
