// Tests of strftime-style time formats, calendar arithmetic, UTC offsets and the timestamp processor.
import Testing
@testable import TailcarCore

@Suite("TimeFormat")
struct TimeFormatTests {
    private func parse(_ format: String, _ text: String, zone: String? = nil) throws -> ParsedTime? {
        let compiled = try TimeFormat(format)
        let offset = try zone.map { try UTCOffset(parsing: $0) } ?? .utc
        return Array(text.utf8).withUnsafeBytes { compiled.parse($0, defaultOffset: offset) }
    }

    @Test("formats read the instant they name", arguments: [
        ("%Y-%m-%d %H:%M:%S", "2024-01-01 00:00:00", nil, 1_704_067_200, 0),
        ("%Y-%m-%d %H:%M:%S", "2024-01-01 08:00:00", "GMT+08:00", 1_704_067_200, 0),
        ("%Y-%m-%d %H:%M:%S", "2023-12-31 19:00:00", "UTC-05:00", 1_704_067_200, 0),
        ("%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", "GMT+08:00", 971_211_336, 0),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-01-01T08:00:00+08:00", nil, 1_704_067_200, 0),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-01-01T00:00:00Z", "GMT+03:00", 1_704_067_200, 0),
        ("%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-01T00:00:00.123+0000", nil, 1_704_067_200, 123_000_000),
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-01 00:00:00.123456789", nil, 1_704_067_200, 123_456_789),
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-01 00:00:00.123456789123", nil, 1_704_067_200, 123_456_789),
        ("%Y-%m-%d %H:%M:%S,%f", "2024-01-01 00:00:00,5", nil, 1_704_067_200, 500_000_000),
        ("%Y-%m-%d %I:%M %p", "2024-01-01 12:30 AM", nil, 1_704_069_000, 0),
        ("%Y-%m-%d %I:%M %p", "2024-01-01 12:30 PM", nil, 1_704_112_200, 0),
        ("%Y-%m-%d %I:%M %p", "2024-01-01 01:00 pm", nil, 1_704_114_000, 0),
        ("%B %d %Y", "February 29 2024", nil, 1_709_164_800, 0),
        ("%b %d %Y", "feb 29 2024", nil, 1_709_164_800, 0),
        ("%Y-%m-%d", "2000-02-29", nil, 951_782_400, 0),
        ("%Y %j", "2024 060", nil, 1_709_164_800, 0),
        ("%Y %j", "2023 365", nil, 1_703_980_800, 0),
        ("%s", "1700000000", "GMT+08:00", 1_700_000_000, 0),
        ("%s.%f", "1700000000.25", nil, 1_700_000_000, 250_000_000),
        ("%a, %d %b %Y %H:%M:%S %Z", "Tue, 15 Nov 1994 08:12:31 GMT", "GMT+08:00", 784_887_151, 0),
        ("%A %d %B %Y %H:%M:%S %Z", "Tuesday 15 November 1994 16:12:31 UTC+08:00", nil, 784_887_151, 0),
        ("%d %b %Y %H:%M:%S %Z", "15 Nov 1994 08:12:31 CET", nil, 784_887_151, 0),
        ("%b %e %H:%M:%S", "Jan  5 10:00:00", nil, 381_600, 0),
        ("%F %T", "2024-03-10 01:02:03", nil, 1_710_032_523, 0),
        ("%D %R", "03/10/24 01:02", nil, 1_710_032_520, 0),
        ("%y-%m-%d", "69-07-20", nil, -14_256_000, 0),
        ("%y-%m-%d", "68-01-01", nil, 3_092_601_600, 0),
        ("[%Y-%m-%d %H:%M:%S]", "[2024-01-01   00:00:00] trailing", nil, 1_704_067_200, 0),
        ("%H:%M:%S %%", "7:5:9 %", nil, 25_509, 0),
    ] as [(String, String, String?, Int64, UInt32)])
    func golden(format: String, text: String, zone: String?, seconds: Int64, nanoseconds: UInt32) throws {
        #expect(try parse(format, text, zone: zone) == ParsedTime(seconds: seconds, nanoseconds: nanoseconds))
    }

    @Test("impossible or mismatched times do not parse", arguments: [
        ("%Y-%m-%d", "2023-02-29"), ("%Y-%m-%d", "1900-02-29"), ("%Y-%m-%d", "2024-13-01"),
        ("%Y-%m-%d", "2024-04-31"), ("%H:%M", "24:00"), ("%H:%M", "12:60"), ("%I %p", "13 PM"),
        ("%I %p", "0 AM"), ("%Y-%m-%d", "2024/01/01"), ("%b", "Foo"), ("%z", "+8"), ("%z", "0800"),
        ("%Y %j", "2023 366"), ("%Y", ""), ("%s", "abc"), ("%f", "x"), ("%Y\u{0}", "2024"),
    ])
    func invalid(format: String, text: String) throws {
        #expect(try parse(format, text) == nil)
    }

    @Test("unknown directives are refused when the format is compiled")
    func badFormat() {
        #expect(throws: ParserConfigError.unknownTimeDirective(format: "%Y %Q", offset: 3)) { try TimeFormat("%Y %Q") }
        #expect(throws: ParserConfigError.unknownTimeDirective(format: "abc%", offset: 3)) { try TimeFormat("abc%") }
    }

    @Test("configured zones parse to their offsets", arguments: [
        ("GMT+08:00", 28_800), ("UTC-05:00", -18_000), ("UTC+8", 28_800), ("+0800", 28_800), ("+08:00", 28_800),
        ("-0530", -19_800), ("UTC", 0), ("GMT", 0), ("Z", 0), ("GMT+0530", 19_800),
    ])
    func zones(text: String, seconds: Int) throws {
        #expect(try UTCOffset(parsing: text).seconds == seconds)
    }

    @Test("nonsense zones are refused", arguments: ["PST", "GMT+25:00", "+08:", "+08:3", "GMT+", "UTC 8", ""])
    func badZones(text: String) {
        #expect(throws: ParserConfigError.invalidTimezone(text)) { try UTCOffset(parsing: text) }
    }

    @Test("days from civil counts every day from 1600 to 2400 exactly once")
    func civilOracle() {
        var expected = CivilTime.daysFromCivil(year: 1600, month: 1, day: 1)
        #expect(CivilTime.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        for year in 1600...2400 {
            for month in 1...12 {
                for day in 1...CivilTime.daysInMonth(year: year, month: month) {
                    #expect(CivilTime.daysFromCivil(year: year, month: month, day: day) == expected)
                    expected += 1
                }
            }
        }
        #expect(expected - CivilTime.daysFromCivil(year: 1600, month: 1, day: 1) == 2 * 146_097 + 366)
    }
}

@Suite("TimestampParser")
struct TimestampParserTests {
    @Test("a parsed time becomes the record's time; the field stays")
    func setsTime() throws {
        let table = KeyTable()
        let parser = try TimestampParser(table: table, sourceKey: "content", format: "%Y-%m-%d %H:%M:%S.%f",
                                         timezone: "GMT+08:00")
        let result = run(parser, on: "2024-01-01 08:00:00.5", group: EventGroup(keys: table))
        #expect(result.seconds == 1_704_067_200 && result.nanoseconds == 500_000_000)
        #expect(result.pairs == ["content=2024-01-01 08:00:00.5"])
        #expect(parser.counters.parsed == 1)
    }

    @Test("an unparsable or out-of-range time keeps the read time and counts a fallback",
          arguments: ["garbage", "1969-12-31 23:59:59", "2200-01-01 00:00:00", "\u{FFFD}\u{0}"])
    func fallback(text: String) throws {
        let table = KeyTable()
        let parser = try TimestampParser(table: table, sourceKey: "content", format: "%Y-%m-%d %H:%M:%S",
                                         timezone: nil)
        let result = run(parser, on: text, group: EventGroup(keys: table))
        #expect(!result.dropped && result.seconds == 7)
        #expect(parser.counters.fallback == 1)
    }

    @Test("a record without the time field is counted and kept")
    func missing() throws {
        let table = KeyTable()
        let parser = try TimestampParser(table: table, sourceKey: "time", format: "%s", timezone: "")
        let result = run(parser, on: "x", group: EventGroup(keys: table))
        #expect(result.seconds == 7 && parser.counters.sourceMissing == 1)
    }
}

@Suite("Parser chains")
struct ParserChainTests {
    @Test("a time member found by the JSON parser sets the record's time (Logtail json_log with timeKey)")
    func jsonThenTimestamp() throws {
        let table = KeyTable()
        let json = JSONParser(table: table, policy: .logtail(discardUnmatch: false, keys: table))
        let time = try TimestampParser(table: table, sourceKey: "time", format: "%d/%b/%Y:%H:%M:%S %z",
                                       timezone: nil)
        let line = #"{"level":"info","time":"10/Oct/2000:13:55:36 -0700"}"#
        let result = run([json, time], on: Array(line.utf8), group: EventGroup(keys: table))
        #expect(result.seconds == 971_211_336)
        #expect(result.pairs == ["level=info", "time=10/Oct/2000:13:55:36 -0700"])
        #expect(time.counters.parsed == 1)
    }

    @Test("a delimiter field feeds a second delimiter parser")
    func nested() throws {
        let table = KeyTable()
        let policy = SourcePolicy.logtail(discardUnmatch: false, keys: table)
        let outer = try DelimiterParser(table: table, separator: "|", keys: ["a", "pair"], policy: policy)
        let inner = try DelimiterParser(table: table, sourceKey: "pair", separator: ",", keys: ["x", "y"],
                                        policy: policy)
        let result = run([outer, inner], on: Array("1|\"2,\"\"3\"\"\"".utf8), group: EventGroup(keys: table))
        #expect(result.pairs == ["a=1", "x=2", "y=3"])
    }
}
