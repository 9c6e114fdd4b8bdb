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
