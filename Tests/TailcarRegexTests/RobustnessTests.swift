// RobustnessTests.swift
//
// Compile errors that name the construct and offset, the backtracking budget on pathological
// patterns, and a seeded fuzz loop of arbitrary patterns over arbitrary bytes.
import Testing
import TailcarRegex

@Suite("TailcarRegex rejects, bounds and survives")
struct RobustnessTests {
    @Test("constructs outside the subset are compile errors naming construct and offset",
          arguments: [("a(?=b)", "lookahead", 1), ("(a)\\1", "back reference", 3), ("x(?<=y)", "lookbehind", 1),
                      ("(?>a)", "atomic", 0), ("a++", "possessive", 2), ("[[:alpha:]]", "POSIX", 1)])
    func rejectsUnsupported(pattern: String, construct: String, offset: Int) {
        #expect {
            _ = try CompiledRegex(pattern)
        } throws: { error in
            guard let e = error as? RegexCompileError else { return false }
            return e.construct.contains(construct) && e.offset == offset && e.pattern == pattern
        }
    }

    @Test("(a+)+$ on a long line of a's stops with budgetExceeded")
    func pathologicalStops() throws {
        let regex = try CompiledRegex("(a+)+$")
        let matcher = RegexMatcher(regex, budgetBase: 100_000, budgetPerByte: 16)
        let input = [UInt8](repeating: 0x61, count: 5000) + [0x62]
        var caps = [Int](repeating: 0, count: regex.captureSlots)
        let r = input.withUnsafeBytes { b in caps.withUnsafeMutableBufferPointer { matcher.matchWhole(b, captures: $0) } }
        #expect(r == .budgetExceeded)
        #expect(caps.allSatisfy { $0 == -1 })
    }

    @Test("an anchored search tries offset 0 only, and agrees with PCRE2 there",
          arguments: ["12:00 start", "at line 12", "", "x", "2024-10-10 13:55:36.123 INFO"])
    func anchoredSearch(line: String) throws {
        let pattern = #"\A(?:\d{2,4}[-:]\d{2})"#
        let matcher = RegexMatcher(try CompiledRegex(pattern))
        let reference = try #require(PCRE2Reference(pattern))
        #expect(disagreement(pattern, matcher, reference, Array(line.utf8), whole: false) == nil)
        #expect(matcher.lastSteps == 0, "a failed anchored search backtracks nowhere")
    }

    @Test("arbitrary patterns on arbitrary bytes never crash and always return")
    func fuzzLoop() {
        var rng = SeededRandom(seed: 99)
        let alphabet = Array("ab()[]{}|*+?.^$\\-:<>PsSdDwWbBAzZ0129,=!i#\"x ".utf8)
        var compiled = 0
        for _ in 0..<3000 {
            let len = Int(rng.next() % 16)
            let bytes = (0..<len).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            guard let regex = try? CompiledRegex(String(decoding: bytes, as: UTF8.self)) else { continue }
            compiled += 1
            let matcher = RegexMatcher(regex, budgetBase: 20_000, budgetPerByte: 16)
            var caps = [Int](repeating: 0, count: regex.captureSlots)
            for _ in 0..<5 {
                let input = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) | (rng.next() % 2 == 0 ? 0x60 : 0) }
                input.withUnsafeBytes { b in
                    caps.withUnsafeMutableBufferPointer { c in
                        _ = matcher.matchWhole(b, captures: c)
                        _ = matcher.search(b, captures: c)
                    }
                }
            }
        }
        #expect(compiled > 300)
    }
}
