// RegexScanTests.swift
//
// The eight-bytes-per-step run scans against a plain byte loop: every start, limits short of the
// input's end (counted runs load words past their limit), over seeded random buffers that mix
// ordinary text, digits, whitespace, control bytes and bytes of 0x80 and above.
import Testing
@testable import TailcarRegex

@Suite("Run scans find the same end as a byte loop")
struct RegexScanTests {
    static func buffer(_ rng: inout SeededRandom, count: Int) -> [UInt8] {
        let pool: [UInt8] = Array("abcXYZ019-./\" \t\r\n".utf8) + [0x00, 0x01, 0x1F, 0x7F, 0x80, 0xA0, 0xE9, 0xFF]
        return (0..<count).map { _ in
            switch rng.next() % 5 {
            case 0: return pool[Int(rng.next() % UInt64(pool.count))]
            case 1: return UInt8(0x30 + rng.next() % 10)
            default: return UInt8(0x61 + rng.next() % 26)
            }
        }
    }

    /// Runs `agrees(s, from, limit, end)` for every start and a spread of limits in seeded buffers;
    /// returns the windows where it did not (as "from..<limit of count").
    static func disagreeingWindows(seed: UInt64, _ agrees: (UnsafePointer<UInt8>, Int, Int, Int) -> Bool) -> [String] {
        var rng = SeededRandom(seed: seed)
        var failures: [String] = []
        for round in 0..<30 {
            let bytes = buffer(&rng, count: 1 + round * 7)
            bytes.withUnsafeBufferPointer { b in
                for from in 0...b.count {
                    for limit in Array(stride(from: from, through: b.count, by: 3)) + [b.count]
                    where !agrees(b.baseAddress!, from, limit, b.count) {
                        failures.append("\(from)..<\(limit) of \(bytes)")
                    }
                }
            }
        }
        return failures
    }

    static func run(_ pattern: String) throws -> (CompiledRegex, RegexInst) {
        let regex = try CompiledRegex(pattern)
        let run = try #require(regex.program.first { $0.op == .runPossessive || $0.op == .runGreedy })
        return (regex, run)
    }

    @Test("firstByte stops at the first occurrence or the limit", arguments: [0x22, 0x0A, 0x20, 0xE9] as [UInt8])
    func firstByte(byte: UInt8) {
        let failures = Self.disagreeingWindows(seed: UInt64(byte)) { s, from, limit, end in
            var expected = from
            while expected < limit && s[expected] != byte { expected += 1 }
            return RegexScan.firstByte(byte, s, from, limit, end) == expected
        }
        #expect(failures.isEmpty, "\(failures.count) windows disagree; first: \(failures.prefix(1))")
    }

    @Test("endOfRange stops at the first byte outside the range", arguments: ["\\d+", "[a-z]+", "[\\x00-\\x7f]+", "[0-9]{2}"])
    func endOfRange(pattern: String) throws {
        let (_, run) = try Self.run(pattern)
        #expect(run.scan == .range)
        let failures = Self.disagreeingWindows(seed: 3) { s, from, limit, end in
            var expected = from
            while expected < limit && s[expected] >= run.scanA && s[expected] <= run.scanB { expected += 1 }
            return RegexScan.endOfRange(run.scanA, run.scanB, s, from, limit, end) == expected
        }
        #expect(failures.isEmpty, "\(failures.count) windows disagree; first: \(failures.prefix(1))")
    }

    @Test("firstBelow with a table finishes where the byte loop does", arguments: ["\\S+", "[^\\s\"]+", "[^\\x00-\\x1f]+"])
    func firstBelow(pattern: String) throws {
        let (regex, run) = try Self.run(pattern)
        #expect(run.scan == .below)
        regex.tables.withUnsafeBufferPointer { t in
            let table = t.baseAddress! + Int(run.x)
            let failures = Self.disagreeingWindows(seed: 7) { s, from, limit, end in
                var expected = from
                while expected < limit && table[Int(s[expected])] != 0 { expected += 1 }
                var found = RegexScan.firstBelow(run.scanA, table, s, from, limit, end)
                if found > limit { return false }
                while found < limit && table[Int(s[found])] != 0 { found += 1 }
                return found == expected
            }
            #expect(failures.isEmpty, "\(failures.count) windows disagree; first: \(failures.prefix(1))")
        }
    }
}
