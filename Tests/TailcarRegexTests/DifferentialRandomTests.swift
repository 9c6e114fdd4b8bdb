// DifferentialRandomTests.swift
//
// Seeded random patterns from the supported subset over random inputs drawn from a small
// alphabet (so matches are frequent), compared with PCRE2 offset by offset.
import Testing
import TailcarRegex

struct RandomPatterns {
    var rng: SeededRandom

    mutating func roll(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    mutating func atom(_ depth: Int) -> String {
        switch roll(depth > 2 ? 9 : 13) {
        case 0: return ["a", "b", "c", " ", "A"][roll(5)]
        case 1: return ["\\s", "\\S", "\\d", "\\D", "\\w", "\\W", "."][roll(7)]
        case 2: return ["[ab]", "[^a]", "[a-c]", "[^\"\\s]", "[\\d\\s]", "[]a]", "[a-]", "[^\\n]", "[B-Z]"][roll(9)]
        case 3: return ["\\x61", "\\t", "\\n", "\\\"", "\\.", "1", "\""][roll(7)]
        case 4: return ["^", "$", "\\b", "\\B", "\\A", "\\z", "\\Z"][roll(7)]
        case 5, 6: return "a"
        case 7: return "b"
        case 8: return "\\S"
        case 9: return "(" + alternation(depth + 1) + ")"
        case 10: return "(?:" + alternation(depth + 1) + ")"
        case 11: return ["(?<n\(depth)x\(roll(1000))>", "(?P<m\(depth)y\(roll(1000))>"][roll(2)] + alternation(depth + 1) + ")"
        default: return ["(?i:", "(?s:", "(?m:", "(?i)(?:", "(?-i:"][roll(5)] + alternation(depth + 1) + ")"
        }
    }

    mutating func quantified(_ depth: Int) -> String {
        let a = atom(depth)
        if a.hasPrefix("^") || a.hasPrefix("$") || (a.hasPrefix("\\") && "bBAzZ".contains(a.last!) && a.count == 2) {
            return a
        }
        let q = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}", "*?", "+?", "??", "{1,2}?"][roll(14)]
        return a + q
    }

    mutating func concat(_ depth: Int) -> String {
        (0..<(1 + roll(4))).map { _ in quantified(depth) }.joined()
    }

    mutating func alternation(_ depth: Int) -> String {
        (0..<(roll(3) == 0 ? 2 + roll(2) : 1)).map { _ in roll(8) == 0 ? "" : concat(depth) }.joined(separator: "|")
    }

    /// Up to 13 bytes by default; longer inputs reach the eight-bytes-per-step run scans and
    /// their hand-over to memchr.
    mutating func input(maxLength: Int = 14) -> [UInt8] {
        let alphabet: [UInt8] = Array("aaabbc A1\"\n\t".utf8) + [0xE9]
        return (0..<roll(maxLength)).map { _ in alphabet[roll(alphabet.count)] }
    }
}

@Suite("TailcarRegex agrees with PCRE2 on random patterns")
struct DifferentialRandomTests {
    @Test("seeded random patterns agree on random inputs",
          arguments: [(1, 14, 600), (2, 14, 600), (3, 14, 600), (4, 14, 600), (5, 160, 120)] as [(UInt64, Int, Int)])
    func randomPatternsAgree(seed: UInt64, maxLength: Int, patternCount: Int) throws {
        var gen = RandomPatterns(rng: SeededRandom(seed: seed))
        var failures: [String] = []
        var compared = 0, patterns = 0, matched = 0, stopped = 0
        for _ in 0..<patternCount {
            let p = gen.alternation(0)
            // Both engines stop early on the rare pattern that backtracks catastrophically on a long
            // input (such comparisons are skipped; the robustness suite covers the budget itself).
            guard let ref = PCRE2Reference(p, matchLimit: 200_000) else { continue }
            let compiled: CompiledRegex
            do { compiled = try CompiledRegex(p) } catch {
                failures.append("rejected \(p): \(error)")
                continue
            }
            patterns += 1
            let matcher = RegexMatcher(compiled, budgetBase: 50_000, budgetPerByte: 64)
            for _ in 0..<25 {
                let input = gen.input(maxLength: maxLength)
                for whole in [true, false] {
                    compared += 1
                    switch ref.match(input, whole: whole) {
                    case .matched: matched += 1
                    case .limitReached: stopped += 1
                    case .noMatch: break
                    }
                    if let d = disagreement(p, matcher, ref, input, whole: whole) { failures.append(d) }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(compared) disagree; first: \(failures.prefix(6))")
        #expect(patterns * 3 > patternCount * 2)
        #expect(stopped * 50 < compared, "PCRE2 stopped at its limit on \(stopped) of \(compared) inputs")
        #expect(matched * 5 > compared, "only \(matched) of \(compared) inputs match: too few to compare captures")
    }
}
