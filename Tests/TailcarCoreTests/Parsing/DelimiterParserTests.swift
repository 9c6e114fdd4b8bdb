// Golden, property and hostile-input tests of the delimiter parser.
import Testing
@testable import TailcarCore

@Suite("DelimiterParser")
struct DelimiterParserTests {
    private func parser(_ separator: String = ",", keys: [String] = ["a", "b", "c"], short: Bool = true,
                        overflow: DelimiterParser.Overflow = .extend, discardUnmatch: Bool = false,
                        surplus: Int = 16, table: KeyTable) throws -> DelimiterParser {
        try DelimiterParser(table: table, separator: separator, keys: keys, allowingShortenedFields: short,
                            overflow: overflow, policy: .logtail(discardUnmatch: discardUnmatch, keys: table),
                            internedSurplusColumns: surplus)
    }

    private func parse(_ line: String, _ make: (KeyTable) throws -> DelimiterParser) throws
        -> (ParsedRecord, ParserCounters) {
        let table = KeyTable()
        let parser = try make(table)
        let result = run(parser, on: line, group: EventGroup(keys: table))
        return (result, parser.counters)
    }

    @Test("golden lines split into the configured keys", arguments: [
        ("1,2,3", ",", ["a=1", "b=2", "c=3"]),
        ("1,,3", ",", ["a=1", "b=", "c=3"]),
        ("1,2,", ",", ["a=1", "b=2", "c="]),
        ("  1,2,3 \r", ",", ["a=1", "b=2", "c=3"]),
        ("x\ty\tz", "\t", ["a=x", "b=y", "c=z"]),
        ("x\ty\tz", "\\t", ["a=x", "b=y", "c=z"]),
        ("x|y|z", "|", ["a=x", "b=y", "c=z"]),
        ("x||y||z", "||", ["a=x", "b=y", "c=z"]),
        ("x,,,y,,,z", ",,,", ["a=x", "b=y", "c=z"]),
        ("x|||y||z", "||", ["a=x", "b=|y", "c=z"]),
        ("1,\"x,\"\"y\"\"\",3", ",", ["a=1", "b=x,\"y\"", "c=3"]),
        ("\"\",\"q\",\"\"\"\"", ",", ["a=", "b=q", "c=\""]),
        ("1,\"a\tb\",3", ",", ["a=1", "b=a\tb", "c=3"]),
        ("\"x\"||y||z", "||", ["a=\"x\"", "b=y", "c=z"]),
    ])
    func golden(line: String, separator: String, expected: [String]) throws {
        let (result, counters) = try parse(line) { try parser(separator, table: $0) }
        #expect(result.pairs == expected)
        #expect(counters.parsed == 1 && counters.unmatched == 0)
    }

    @Test("fewer columns than keys are kept only when shortened fields are allowed")
    func shortened() throws {
        let (kept, _) = try parse("1,2") { try parser(table: $0) }
        #expect(kept.pairs == ["a=1", "b=2"])
        let (raw, counters) = try parse("1,2") { try parser(short: false, table: $0) }
        #expect(raw.pairs == ["__raw_log__=1,2"])
        #expect(counters.unmatched == 1 && counters.parsed == 0)
    }

    @Test("surplus columns follow iLogtail's extend, keep and discard treatments")
    func surplus() throws {
        let line = "1,2,3,4,\"5,5\""
        let (extended, _) = try parse(line) { try parser(table: $0) }
        #expect(extended.pairs == ["a=1", "b=2", "c=3", "__column3__=4", "__column4__=5,5"])
        let (kept, _) = try parse(line) { try parser(overflow: .keep, table: $0) }
        #expect(kept.pairs == ["a=1", "b=2", "c=3", "__column3__=4,\"5,5\""])
        let (discarded, _) = try parse(line) { try parser(overflow: .discard, table: $0) }
        #expect(discarded.pairs == ["a=1", "b=2", "c=3"])
        let (skipped, _) = try parse(line) { try parser(keys: ["a", "_", "c"], overflow: .discard, table: $0) }
        #expect(skipped.pairs == ["a=1", "c=3"])
    }

    @Test("surplus column names past the interned ones are written into the arena")
    func surplusBeyondInterned() throws {
        let (result, _) = try parse("1,2,3,4,5,6") { try parser(surplus: 1, table: $0) }
        #expect(result.pairs == ["a=1", "b=2", "c=3", "__column3__=4", "__column4__=5", "__column5__=6"])
    }

    @Test("malformed quoting is unmatched", arguments: ["\"abc", "a\"b,c", "\"a\"b,c", "1,\"2", "\"a\"\""])
    func malformedQuotes(line: String) throws {
        let (result, counters) = try parse(line) { try parser(table: $0) }
        #expect(result.pairs == ["__raw_log__=\(line)"])
        #expect(counters.unmatched == 1)
    }

    @Test("with discardUnmatch an unmatched record is dropped and counted")
    func discardUnmatch() throws {
        let (result, counters) = try parse("   ") { try parser(discardUnmatch: true, table: $0) }
        #expect(result.dropped)
        #expect(counters.droppedUnmatched == 1 && counters.unmatched == 1)
    }

    @Test("iLogtail keeps the source under its renamed key on success when asked")
    func keepSourceOnSuccess() throws {
        let table = KeyTable()
        let policy = SourcePolicy.ilogtail(keepingSourceWhenParseFail: true, keepingSourceWhenParseSucceed: true,
                                           renamedSourceKey: "raw", keys: table)
        let parser = try DelimiterParser(table: table, separator: ",", keys: ["a", "b"], policy: policy)
        let result = run(parser, on: "1,2", group: EventGroup(keys: table))
        #expect(result.pairs == ["a=1", "b=2", "raw=1,2"])
    }

    @Test("a record without the source field passes untouched and is counted")
    func missingSource() throws {
        let table = KeyTable()
        let parser = try DelimiterParser(table: table, sourceKey: "other", separator: ",", keys: ["a"],
                                         policy: .logtail(discardUnmatch: true, keys: table))
        let result = run(parser, on: "1,2", group: EventGroup(keys: table))
        #expect(result.pairs == ["content=1,2"])
        #expect(parser.counters.sourceMissing == 1)
    }

    @Test("separators that cannot work are refused")
    func badConfiguration() {
        let table = KeyTable()
        #expect(throws: ParserConfigError.emptySeparator) {
            try DelimiterParser(table: table, separator: "", keys: ["a"], policy: SourcePolicy(keepOnFailure: nil))
        }
        #expect(throws: ParserConfigError.separatorTooLong("|||||")) {
            try DelimiterParser(table: table, separator: "|||||", keys: ["a"],
                                policy: SourcePolicy(keepOnFailure: nil))
        }
    }

    @Test("generated records survive quoting and parsing unchanged (seeded)")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 0x5EED_DE11)
        let alphabet: [String] = ["a", "b", "Z", "0", ",", "\"", " ", "\r", "\t", "é", "|", "\u{0}"]
        let table = KeyTable()
        let keys = (0..<6).map { "k\($0)" }
        let parser = try DelimiterParser(table: table, separator: ",", keys: keys,
                                         policy: .logtail(discardUnmatch: true, keys: table))
        let group = EventGroup(keys: table)
        for _ in 0..<500 {
            let count = Int.random(in: 1...keys.count, using: &random)
            let fields = (0..<count).map { _ in
                (0..<Int.random(in: 0...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
                    .joined()
            }
            let line = fields.map { field -> String in
                let plain = !field.isEmpty && !field.contains(where: { ",\" \r".contains($0) })
                return plain ? field : "\"" + field.replacingAll("\"", with: "\"\"") + "\""
            }.joined(separator: ",")
            let result = run(parser, on: line, group: group)
            #expect(result.fields.map(\.value) == fields, "line: \(line)")
            group.reset()
        }
        #expect(parser.counters.parsed == 500)
    }

    @Test("hostile bytes and a 10 MB record give counted outcomes")
    func hostile() throws {
        let table = KeyTable()
        let parser = try DelimiterParser(table: table, separator: ",", keys: ["a", "b"],
                                         policy: .logtail(discardUnmatch: false, keys: table))
        let group = EventGroup(keys: table)
        let binary = run([parser], on: [0xFF, 0x2C, 0x00, 0xFE, 0x22, 0x2C], group: group)
        #expect(binary.fields.count == 1)
        var big = [UInt8](repeating: 0x61, count: 10 << 20)
        big[5 << 20] = 0x2C
        let large = run([parser], on: big, group: group)
        #expect(large.fields.map(\.value.utf8.count) == [5 << 20, (5 << 20) - 1])
        #expect(parser.counters.parsed + parser.counters.unmatched == 2)
    }
}

extension String {
    /// Replaces every occurrence of `target` (tests only; avoids Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
