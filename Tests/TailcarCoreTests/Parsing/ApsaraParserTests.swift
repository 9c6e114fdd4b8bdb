// Golden and hostile-input tests of the Apsara parser.
import Testing
@testable import TailcarCore

@Suite("ApsaraParser")
struct ApsaraParserTests {
    private func parse(_ line: [UInt8], timezone: String? = nil) throws -> (ParsedRecord, ParserCounters) {
        let table = KeyTable()
        let parser = try ApsaraParser(table: table, timezone: timezone,
                                      policy: .logtail(discardUnmatch: false, keys: table))
        return (run([parser], on: line, group: EventGroup(keys: table)), parser.counters)
    }

    private func parse(_ line: String, timezone: String? = nil) throws -> (ParsedRecord, ParserCounters) {
        try parse(Array(line.utf8), timezone: timezone)
    }

    @Test("a full line gives level, thread, file, line, pairs and the microsecond time")
    func fullLine() throws {
        let line = "[2024-01-01 12:00:00.123456]\t[INFO]\t[12345]\t[/build/file.cpp:42]\tkey:value\tkey2:value2"
        let (result, counters) = try parse(line)
        #expect(result.pairs == ["__LEVEL__=INFO", "__THREAD__=12345", "__FILE__=/build/file.cpp", "__LINE__=42",
                                 "key=value", "key2=value2", "microtime=1704110400123456"])
        #expect(result.seconds == 1_704_110_400 && result.nanoseconds == 123_456_000)
        #expect(counters.parsed == 1)
    }

    @Test("golden lines", arguments: [
        ("[1704110400]\t[WARN]\tk:v:w\tnokey\tk2:", ["__LEVEL__=WARN", "k=v:w", "k2=", "microtime=1704110400000000"]),
        ("[2024-01-01 12:00:00]\t[777]\t[ERROR]\tmsg:hi", ["__THREAD__=777", "__LEVEL__=ERROR", "msg=hi",
                                                          "microtime=1704110400000000"]),
        ("[2024-01-01 12:00:00.5]", ["microtime=1704110400500000"]),
        ("[1704110400.25]\t[main.go]\tk:v", ["__FILE__=main.go", "k=v", "microtime=1704110400250000"]),
        ("[2024-01-01 12:00:00]\t[INFO]\t[INFO]\t[42]\tk:v", ["__LEVEL__=INFO", "__THREAD__=42", "k=v",
                                                             "microtime=1704110400000000"]),
        // As iLogtail: without a tab after the time there are no base fields and pairs start at byte 1.
        ("[2024-01-01 12:00:00] a:b", ["[2024-01-01 12=00:00] a:b", "microtime=1704110400000000"]),
    ])
    func golden(line: String, expected: [String]) throws {
        #expect(try parse(line).0.pairs == expected)
    }

    @Test("the configured zone shifts local times but not epoch times")
    func timezone() throws {
        let (local, _) = try parse("[2024-01-01 20:00:00]\tk:v", timezone: "GMT+08:00")
        #expect(local.seconds == 1_704_110_400)
        let (epoch, _) = try parse("[1704110400]\tk:v", timezone: "GMT+08:00")
        #expect(epoch.seconds == 1_704_110_400)
    }

    @Test("lines without a valid leading time are unmatched", arguments: [
        "", "[", "no bracket", "[abc]\tk:v", "[2024-13-01 00:00:00]\tk:v", "[1x]\tk:v", "[1970-01-01 00:00:00]",
        "[2024-01-01 12:00:00\tk:v",
    ])
    func unmatched(line: String) throws {
        let (result, counters) = try parse(line)
        #expect(result.pairs == ["__raw_log__=\(line)"])
        #expect(counters.unmatched == 1)
    }

    @Test("binary bytes, NUL and a 10 MB record give counted outcomes")
    func hostile() throws {
        let binary: [UInt8] = Array("[2024-01-01 12:00:00]\t[".utf8) + [0xFF, 0x00, 0x5D, 0x09, 0x3A, 0xFE]
        #expect(try parse(binary).1.parsed == 1)
        var big = Array("[2024-01-01 12:00:00]\tk:".utf8)
        big += [UInt8](repeating: 0x5B, count: 10 << 20)
        let (result, counters) = try parse(big)
        #expect(counters.parsed == 1)
        #expect(result.fields.first?.value.utf8.count == 10 << 20)
    }
}
