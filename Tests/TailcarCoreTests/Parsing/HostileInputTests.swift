// Seeded random bytes, biased towards each format's structural characters, through every parser: each
// record must end in a counted outcome, never a crash.
import Testing
@testable import TailcarCore

@Suite("Hostile input")
struct HostileInputTests {
    @Test("random structural bytes give counted outcomes in every parser (seeded)")
    func randomBytes() throws {
        var random = SeededGenerator(seed: 0xBAD_B17E5)
        let alphabet: [UInt8] = Array("[]{}\":,\\\t \r\n-+.0123456789eEaZ:/|u".utf8) + [0x00, 0x80, 0xBF, 0xFF]
        let table = KeyTable()
        let keep = SourcePolicy.logtail(discardUnmatch: false, keys: table)
        let drop = SourcePolicy.logtail(discardUnmatch: true, keys: table)
        let delimiter = try DelimiterParser(table: table, separator: ",", keys: ["a", "b"], policy: keep)
        let multi = try DelimiterParser(table: table, separator: "||", keys: ["a"], allowingShortenedFields: false,
                                        policy: drop)
        let json = JSONParser(table: table, policy: drop)
        let apsara = try ApsaraParser(table: table, policy: keep)
        let time = try TimestampParser(table: table, sourceKey: "content", format: "%Y-%m-%d %H:%M:%S.%f %z",
                                       timezone: "GMT+08:00")
        let group = EventGroup(keys: table)
        let lines = 3000
        for _ in 0..<lines {
            var line = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                alphabet.randomElement(using: &random)!
            }
            if Bool.random(using: &random) { line = Array("[2024-01-01 00:00:00]\t".utf8) + line }
            if Bool.random(using: &random) { line = [0x7B, 0x22] + line }
            for processor in [time, delimiter, multi, json, apsara] as [any EventProcessor] {
                _ = run([processor], on: line, group: group)
            }
            group.reset()
        }
        for counters in [delimiter.counters, multi.counters, json.counters, apsara.counters] {
            #expect(counters.parsed + counters.unmatched == lines)
        }
        #expect(time.counters.parsed + time.counters.fallback == lines)
        #expect(json.counters.droppedUnmatched == json.counters.unmatched)
    }
}

@Suite("Hostile input to regex parsers")
struct HostileRegexInputTests {
    /// The seed's access-log regex, and the regex nginx mode derives from `main`.
    private static let seedRegex =
        #"(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*"#

    private func parsers(_ table: KeyTable) throws -> [RegexParser] {
        let seedKeys = ["time", "ip", "method", "url", "protocol", "latency", "payload", "status", "response-size",
                        "user-agent", "x"]
        let nginx = NginxLogFormat.regex(for: NginxLogFormat.main)
        return [
            try RegexParser(table: table, regex: ProcessorFactory.compile(Self.seedRegex, field: "regex"), keys: seedKeys,
                            policy: .logtail(discardUnmatch: false, keys: table)),
            try RegexParser(table: table, regex: ProcessorFactory.compile(nginx.pattern, field: "regex"), keys: nginx.keys,
                            policy: .logtail(discardUnmatch: true, keys: table)),
        ]
    }

    @Test("random bytes, invalid UTF-8, NUL, unbalanced quotes and a 10 MB record give counted outcomes (seeded)")
    func hostile() throws {
        let table = KeyTable()
        let regexes = try parsers(table)
        let group = EventGroup(keys: table)
        var random = SeededGenerator(seed: 0x5EED_4E61)
        let alphabet: [UInt8] = Array(" \"[]-:/0123456789aZ.\t".utf8) + [0x00, 0x80, 0xC3, 0xFF]
        var lines: [[UInt8]] = (0..<1500).map { _ in
            (0..<Int.random(in: 0...60, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
        }
        lines.append(Array(#"1.2.3.4 - - [27/Nov/2026:03:00:00 +0000] "GET /a HTTP/1.1 200 5 "-" "ua" "-""#.utf8))
        lines.append(Array(#"1.2.3.4 - - [27/Nov/2026:03:00:00 +0000] "GET /\#u{0}x HTTP/1.1" 200 5 "-" "ua" "-""#.utf8))
        lines.append([UInt8](repeating: 0x61, count: 10 << 20))
        lines.append(Array(repeating: Array("a ".utf8), count: 1 << 19).flatMap { $0 })
        for line in lines {
            for parser in regexes { _ = run([parser], on: line, group: group) }
            group.reset()
        }
        for parser in regexes {
            #expect(parser.counters.parsed + parser.counters.unmatched == lines.count)
            #expect(parser.counters.unmatched >= 4)
        }
        #expect(regexes[1].counters.droppedUnmatched == regexes[1].counters.unmatched)
    }
}
