// RegexScanTests.swift
//
// The eight-bytes-per-step run scans against a plain byte loop: every start and limit over seeded
// random buffers that mix ordinary text, whitespace, control bytes and bytes of 0x80 and above.
import Testing
@testable import TailcarRegex

@Suite("Run scans find the same end as a byte loop")
struct RegexScanTests {
    static func buffer(_ rng: inout SeededRandom, count: Int) -> [UInt8] {
        let pool: [UInt8] = Array("abcXYZ019-./\" \t\r\n".utf8) + [0x00, 0x01, 0x1F, 0x7F, 0x80, 0xA0, 0xE9, 0xFF]
        return (0..<count).map { _ in
            rng.next() % 4 == 0 ? pool[Int(rng.next() % UInt64(pool.count))] : UInt8(0x61 + rng.next() % 26)
        }
    }

    @Test("firstByte stops at the first occurrence or the limit", arguments: [0x22, 0x0A, 0x20, 0xE9] as [UInt8])
    func firstByte(byte: UInt8) {
        var rng = SeededRandom(seed: UInt64(byte))
        for round in 0..<40 {
            let bytes = Self.buffer(&rng, count: 1 + round * 7)
            bytes.withUnsafeBufferPointer { b in
                let s = b.baseAddress!
                for from in 0...b.count {
                    for limit in stride(from: from, through: b.count, by: 3) {
                        var expected = from
                        while expected < limit && s[expected] != byte { expected += 1 }
                        #expect(RegexScan.firstByte(byte, s, from, limit) == expected)
                    }
                }
            }
        }
    }

    @Test("firstBelow with a table finishes where the byte loop does", arguments: ["\\S", "[^\\s\"]", "[^\\x00-\\x1f]"])
    func firstBelow(pattern: String) throws {
        let regex = try CompiledRegex("(?:" + pattern + ")+")
        guard let run = regex.program.first(where: { $0.op == .runPossessive || $0.op == .runGreedy }) else {
            Issue.record("no run instruction for \(pattern)")
            return
        }
        #expect(run.below > 0)
        var rng = SeededRandom(seed: 7)
        regex.tables.withUnsafeBufferPointer { t in
            let table = t.baseAddress! + Int(run.x)
            for round in 0..<40 {
                let bytes = Self.buffer(&rng, count: 1 + round * 5)
                bytes.withUnsafeBufferPointer { b in
                    let s = b.baseAddress!
                    for from in 0...b.count {
                        var expected = from
                        while expected < b.count && table[Int(s[expected])] != 0 { expected += 1 }
                        var end = RegexScan.firstBelow(UInt8(run.below), table, s, from, b.count)
                        while end < b.count && table[Int(s[end])] != 0 { end += 1 }
                        #expect(end == expected)
                    }
                }
            }
        }
    }
}
