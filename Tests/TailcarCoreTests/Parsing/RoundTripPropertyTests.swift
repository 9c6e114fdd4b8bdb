// Seeded round-trip properties beyond the single-comma and string-only cases in DelimiterParserTests and
// JSONParserTests: multi-byte separators (where quotes are plain text, as iLogtail has it), surplus
// columns, and JSON members whose values are numbers, literals and nested values.
import Testing
@testable import TailcarCore

@Suite("Round-trip properties")
struct RoundTripPropertyTests {
    @Test("records joined with a 1 to 4 byte separator split back into their fields (seeded)",
          arguments: ["|", "\t", "||", ",,,", "|#|#"])
    func delimiterSeparators(separator: String) throws {
        var random = SeededGenerator(seed: 0xDE11_0000 &+ UInt64(separator.utf8.count))
        let alphabet: [String] = ["a", "Z", "0", "\"", "'", "é", "\u{0}", "-", ",", "|", "#", "\t", " "]
            .filter { !separator.contains($0) }
        let table = KeyTable()
        let keys = ["k0", "k1", "k2", "k3"]
        let parser = try DelimiterParser(table: table, separator: separator, keys: keys, allowingShortenedFields: true,
                                         overflow: .extend, policy: .logtail(discardUnmatch: true, keys: table))
        let group = EventGroup(keys: table)
        let rounds = 400
        for _ in 0..<rounds {
            var fields = (0..<Int.random(in: 1...7, using: &random)).map { _ in
                (0..<Int.random(in: 0...5, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
            }
            // The line is trimmed of spaces first (as iLogtail); the quote is special for one-byte separators.
            fields[0] = "s" + fields[0]
            fields[fields.count - 1] += "e"
            if separator.utf8.count == 1 { fields = fields.map { $0.replacingAll("\"", with: "q") } }
            let result = run(parser, on: fields.joined(separator: separator), group: group)
            let names = (0..<fields.count).map { $0 < keys.count ? keys[$0] : "__column\($0)__" }
            #expect(result.fields.map(\.key) == names)
            #expect(result.fields.map(\.value) == fields)
            group.reset()
        }
        #expect(parser.counters.parsed == rounds)
    }

    @Test("members whose values are numbers, literals and nested values keep their compact text (seeded)")
    func jsonValues() {
        var random = SeededGenerator(seed: 0x15_0_7A1)
        let table = KeyTable()
        let parser = JSONParser(table: table, policy: .logtail(discardUnmatch: true, keys: table))
        let group = EventGroup(keys: table)
        for round in 0..<300 {
            var members: [String] = []
            var expected: [String] = []
            for index in 0..<Int.random(in: 1...5, using: &random) {
                let (compact, spaced) = Self.value(depth: 0, &random)
                members.append("\"m\(index)\":" + (Bool.random(using: &random) ? spaced : compact))
                // A top-level string is unescaped; inside nested values escapes stay as written.
                expected.append("m\(index)=" + (compact == #""s\"x""# ? #"s"x"# : compact))
            }
            let result = run(parser, on: "{" + members.joined(separator: ", ") + "}", group: group)
            #expect(result.pairs == expected, "round \(round)")
            group.reset()
        }
        #expect(parser.counters.parsed == 300)
    }

    /// A random non-string JSON value: its compact text, and the same value with insignificant spaces.
    private static func value(depth: Int, _ random: inout SeededGenerator) -> (String, String) {
        let scalars = ["0", "-12", "3.25", "1e9", "-0.5E-3", "true", "false", "null"]
        switch depth < 2 ? Int.random(in: 0...3, using: &random) : 0 {
        case 1:
            let items = (0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth: depth + 1, &random) }
            return ("[" + items.map(\.0).joined(separator: ",") + "]",
                    "[ " + items.map(\.1).joined(separator: " , ") + " ]")
        case 2:
            let items = (0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth: depth + 1, &random) }
            return ("{" + items.enumerated().map { "\"k\($0.offset)\":\($0.element.0)" }.joined(separator: ",") + "}",
                    "{ " + items.enumerated().map { "\"k\($0.offset)\" : \($0.element.1)" }.joined(separator: ",\n ") + " }")
        case 3:
            return ("\"s\\\"x\"", "\"s\\\"x\"")
        default:
            let text = scalars.randomElement(using: &random)!
            return (text, text)
        }
    }
}
