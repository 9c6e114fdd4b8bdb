// PossessiveRunTests.swift
//
// Which greedy runs the compiler makes possessive (no give-back frames), and that the choice never
// changes an answer: each pattern is compared with PCRE2 on inputs built to need a give-back where
// one could matter (a final '\n', a quote right after spaces, an optional group after the run).
import Testing
@testable import TailcarRegex

@Suite("Possessive runs keep PCRE2's answers")
struct PossessiveRunTests {
    static func runOps(_ pattern: String) throws -> [RegexOp] {
        try CompiledRegex(pattern).program.map(\.op).filter { $0 == .runGreedy || $0 == .runPossessive }
    }

    @Test("runs become possessive only when no later path can start inside them",
          arguments: [
            (#"(.*)$"#, [RegexOp.runPossessive]),
            (#"(?s)(.*)$"#, [.runGreedy]),
            (#"a*\z"#, [.runPossessive]),
            (#"([^:\[]+)(?:\[(\d+)\])?: (.*)$"#, [.runPossessive, .runPossessive, .runPossessive]),
            (#"(\w+)(?:x|y)?z"#, [.runGreedy]),
            (#"\s+([^"]+)""#, [.runGreedy, .runPossessive]),
            (#"(\S+)\b"#, [.runGreedy]),
          ] as [(String, [RegexOp])])
    func possessiveChoice(pattern: String, expected: [RegexOp]) throws {
        #expect(try Self.runOps(pattern) == expected, "\(pattern)")
    }

    @Test("answers agree with PCRE2 where a give-back could matter")
    func agreesWithPCRE2() throws {
        let cases: [(String, [String])] = [
            (#"(.*)$"#, ["abc", "abc\n", "ab\nc", "\n", ""]),
            (#"(?s)(.*)$"#, ["abc\n", "a\nb\n", "\n\n"]),
            (#"(?m)(.*)$"#, ["ab\ncd", "ab\n", "\n"]),
            (#"(\S*)\Z"#, ["ab", "ab\n", "ab \n"]),
            (#"a*\z"#, ["aaa", "aa\n", ""]),
            (#"([^:\[]+)(?:\[(\d+)\])?: (.*)$"#, ["sshd[42]: ok", "cron: x", "a[b: c", "x[1]:y: z", "[1]: z"]),
            (#"(\w+)(?:x|y)?z"#, ["abxz", "abz", "xz", "yz", "z"]),
            (#"\s+([^"]+)""#, [#"  ""#, #"  a""#, #" ""#, #"   ""#]),
            (#"(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*"#,
             [#"1.2.3.4 5.6 - - "GET /a  HTTP/1.1" 200 512 3 12 - "curl/8" x"#,
              #"1.2.3.4 5.6 - - "GET /a  " 200 512 3 12 - "curl/8" x"#]),
        ]
        var failures: [String] = []
        for (pattern, inputs) in cases {
            let matcher = RegexMatcher(try CompiledRegex(pattern))
            let reference = try #require(PCRE2Reference(pattern))
            for input in inputs {
                for whole in [true, false] {
                    if let d = disagreement(pattern, matcher, reference, Array(input.utf8), whole: whole) { failures.append(d) }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }
}
