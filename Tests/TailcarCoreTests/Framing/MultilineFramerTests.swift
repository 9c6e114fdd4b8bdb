// Multi-line framing: each pattern combination joins lines as iLogtail's custom mode does, unmatched
// lines stand alone or are dropped, oversized records are cut, and the open record holds back its offset.
import Testing
@testable import TailcarCore

private func prefix(_ text: String) -> MultilineRules.Matcher {
    let bytes = Array(text.utf8)
    return LinePredicate { line in line.count >= bytes.count && zip(line, bytes).allSatisfy { $0 == $1 } }
}

private func frame(_ lines: [String], _ rules: MultilineRules) -> [String] {
    var framer = MultilineFramer(rules: rules)
    var out: [String] = []
    var offset: UInt64 = 0
    for line in lines {
        Array(line.utf8).withUnsafeBytes { bytes in
            framer.feed(bytes, at: offset) { record, kind in
                out.append((kind == .unmatched ? "?" : "") + String(decoding: record, as: UTF8.self))
            }
        }
        offset += UInt64(line.utf8.count + 1)
    }
    framer.flush { record, _ in out.append(String(decoding: record, as: UTF8.self)) }
    return out
}

@Suite("MultilineFramer")
struct MultilineFramerTests {
    let java = ["junk", "2026 ERROR boom", "  at a.b(C.java:1)", "  at d.e(F.java:2)", "2026 INFO ok", "  tail"]

    @Test("a start pattern opens records; lines before the first start stand alone")
    func startOnly() {
        #expect(frame(java, MultilineRules(start: prefix("2026"), continuation: nil, end: nil))
                == ["?junk", "2026 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)", "2026 INFO ok\n  tail"])
        #expect(frame(java, MultilineRules(start: prefix("2026"), continuation: nil, end: nil, discardUnmatched: true))
                == ["2026 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)", "2026 INFO ok\n  tail"])
    }

    @Test("counts of unmatched lines and cut records are handed over once, then start again from zero")
    func takeCounts() {
        var framer = MultilineFramer(rules: MultilineRules(start: prefix("2026"), continuation: nil, end: nil,
                                                           discardUnmatched: true, maxRecordBytes: 20))
        for line in ["junk", "more junk", "2026 a", "  long continuation line"] {
            Array(line.utf8).withUnsafeBytes { framer.feed($0, at: 0) { _, _ in } }
        }
        #expect(framer.discardedLines == 2)
        let taken = framer.takeCounts()
        #expect(taken.unmatchedLines == 2 && taken.oversizedRecords == 1)
        #expect(framer.unmatchedLines == 0 && framer.discardedLines == 0 && framer.oversizedRecords == 0)
        #expect(framer.takeCounts() == (0, 0))
    }

    @Test("start and continue: a line matching neither closes the record and stands alone")
    func startContinue() {
        let lines = ["2026 a", "  at x", "other", "2026 b"]
        #expect(frame(lines, MultilineRules(start: prefix("2026"), continuation: prefix("  "), end: nil))
                == ["2026 a\n  at x", "?other", "2026 b"])
    }

    @Test("start and end, continue and end, end alone")
    func endPatterns() {
        let lines = ["BEGIN 1", "body", "END", "stray", "BEGIN 2", "END"]
        #expect(frame(lines, MultilineRules(start: prefix("BEGIN"), continuation: nil, end: prefix("END")))
                == ["BEGIN 1\nbody\nEND", "?stray", "BEGIN 2\nEND"])
        #expect(frame(["  a", "  b", "END", "x"], MultilineRules(start: nil, continuation: prefix("  "), end: prefix("END")))
                == ["  a\n  b\nEND", "?x"])
        #expect(frame(["a", "b;", "c", "d;"], MultilineRules(start: nil, continuation: nil, end: LinePredicate { $0.last == 0x3B }))
                == ["a\nb;", "c\nd;"])
    }

    @Test("a record that would exceed the limit is emitted as it stands and counted")
    func oversized() {
        var framer = MultilineFramer(rules: MultilineRules(start: prefix("S"), continuation: nil, end: nil, maxRecordBytes: 10))
        var out: [String] = []
        for (index, line) in ["S1234", "abcd", "efgh", "S2"].enumerated() {
            Array(line.utf8).withUnsafeBytes { bytes in
                framer.feed(bytes, at: UInt64(index * 10)) { out.append(String(decoding: $0, as: UTF8.self)) ; _ = $1 }
            }
        }
        #expect(out == ["S1234\nabcd", "efgh"])
        #expect(framer.oversizedRecords == 1)
        #expect(framer.pendingStart == 30)
    }

    @Test("the open record's first byte is where the delivered offset stops")
    func pendingOffset() {
        var framer = MultilineFramer(rules: MultilineRules(start: prefix("S"), continuation: nil, end: nil))
        Array("S first".utf8).withUnsafeBytes { framer.feed($0, at: 100) { _, _ in } }
        #expect(framer.pendingStart == 100 && framer.hasPending)
        Array("more".utf8).withUnsafeBytes { framer.feed($0, at: 108) { _, _ in } }
        #expect(framer.pendingStart == 100)
        Array("S next".utf8).withUnsafeBytes { framer.feed($0, at: 113) { _, _ in } }
        #expect(framer.pendingStart == 113)
    }
}
