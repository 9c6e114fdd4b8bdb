// DifferentialCorpusTests.swift
//
// TailcarRegex against PCRE2 on real log patterns over realistic lines and their mutations:
// match or no match and every capture offset must agree, in whole-record and search mode.
import Testing
import TailcarRegex

@Suite("TailcarRegex agrees with PCRE2 on log patterns")
struct DifferentialCorpusTests {
    @Test("every corpus pattern compiles in both engines with the same groups")
    func corpusCompiles() throws {
        for p in LogCorpus.patterns {
            let ours = try CompiledRegex(p)
            let ref = try #require(PCRE2Reference(p), "PCRE2 rejects \(p)")
            #expect(ours.captureCount == ref.groups, "\(p)")
        }
    }

    @Test("corpus patterns agree on realistic lines and mutations of them")
    func corpusLinesAgree() throws {
        var rng = SeededRandom(seed: 2024)
        var compared = 0
        var failures: [String] = []
        for p in LogCorpus.patterns {
            let matcher = RegexMatcher(try CompiledRegex(p))
            let ref = try #require(PCRE2Reference(p))
            for _ in 0..<12 {
                for line in LogCorpus.lines(&rng) {
                    var input = Array(line.utf8)
                    for round in 0..<6 {
                        if round > 0 { input = LogCorpus.mutate(input, &rng) }
                        for whole in [true, false] {
                            compared += 1
                            if let d = disagreement(p, matcher, ref, input, whole: whole) { failures.append(d) }
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(compared) disagree; first: \(failures.prefix(5))")
        #expect(compared > 90_000)
    }

    @Test("the seed's nginx pattern captures every field of a real access line")
    func seedNginxFields() throws {
        let regex = try CompiledRegex(LogCorpus.seedNginx)
        let matcher = RegexMatcher(regex)
        let line = Array(#"1.2.3.4 5.6 - - "GET /a HTTP/1.1" 200 512 3 12 - "curl/8" x"#.utf8)
        var caps = [Int](repeating: 0, count: regex.captureSlots)
        let r = line.withUnsafeBytes { b in caps.withUnsafeMutableBufferPointer { matcher.matchWhole(b, captures: $0) } }
        try #require(r == .matched)
        func field(_ g: Int) -> String { String(decoding: line[caps[2 * g]..<caps[2 * g + 1]], as: UTF8.self) }
        #expect((1...11).map(field) == ["1.2.3.4", "5.6", "GET", "/a", "HTTP/1.1", "200", "512", "3", "12", "-", "curl/8"])
        #expect(regex.captureCount == 11)
    }
}

@Suite("The PCRE2 oracle harness")
struct OracleHarnessTests {
    @Test("the harness reports a disagreement when the engines differ")
    func harnessDetectsDifference() throws {
        let ours = RegexMatcher(try CompiledRegex("(a)"))
        let ref = try #require(PCRE2Reference("(b)"))
        #expect(disagreement("(a)", ours, ref, Array("a".utf8), whole: true) != nil)
        #expect(disagreement("(a)", ours, ref, Array("xab".utf8), whole: false) != nil)
    }
}
