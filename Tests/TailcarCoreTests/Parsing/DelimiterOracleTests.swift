// DelimiterOracleTests.swift
//
// The delimiter parser's word-at-a-time splitting against an obviously correct byte loop, over seeded
// random lines (quotes, doubled quotes, stray quotes, empty columns, spaces and '\r' at the ends, lengths
// on both sides of the eight-byte word, short and long lines), for every overflow treatment and with and
// without quoting; and ByteScan's word matcher against a byte loop.
import Testing
@testable import TailcarCore

@Suite("Delimiter splitting against a byte-loop oracle")
struct DelimiterOracleTests {
    /// The columns of `line` as (value, the raw text from the column's start to the end), or nil when it is
    /// unmatched; one byte at a time, straight from the rules in DelimiterParser.swift's header. Reading
    /// stops after `limit` columns (the text after them is not checked).
    static func oracleColumns(_ line: [UInt8], separator: UInt8, quote: UInt8?,
                              limit: Int) -> [(value: [UInt8], rest: [UInt8])]? {
        var end = line.count
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x0D { end -= 1 }
        var begin = 0
        while begin < end, line[begin] == 0x20 { begin += 1 }
        guard begin < end else { return nil }
        let text = Array(line[begin..<end])
        var columns: [(value: [UInt8], rest: [UInt8])] = []
        var index = 0
        while true {
            let start = index
            var value: [UInt8] = []
            if let quote, index < text.count, text[index] == quote {
                index += 1
                while true {
                    guard index < text.count else { return nil }
                    if text[index] == quote {
                        if index + 1 < text.count, text[index + 1] == quote {
                            value.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    value.append(text[index])
                    index += 1
                }
                guard index == text.count || text[index] == separator else { return nil }
            } else {
                while index < text.count, text[index] != separator {
                    if let quote, text[index] == quote { return nil }
                    value.append(text[index])
                    index += 1
                }
            }
            columns.append((value, Array(text[start...])))
            if index == text.count || columns.count == limit { return columns }
            index += 1
        }
    }

    /// The fields the parser should give: `key=value` pairs, or the raw line under `__raw_log__`.
    static func expectedPairs(_ line: [UInt8], separator: UInt8, quote: UInt8?, keys: [String], short: Bool,
                              overflow: DelimiterParser.Overflow) -> [String] {
        let raw = ["__raw_log__=" + String(decoding: line, as: UTF8.self)]
        let limit = overflow == .extend ? Int.max : keys.count + 1
        guard let columns = oracleColumns(line, separator: separator, quote: quote, limit: limit) else { return raw }
        guard columns.count >= keys.count || short else { return raw }
        var pairs: [String] = []
        for (index, column) in columns.enumerated() {
            let value = String(decoding: column.value, as: UTF8.self)
            if index < keys.count {
                if !(overflow == .discard && keys[index] == "_") { pairs.append("\(keys[index])=\(value)") }
                continue
            }
            switch overflow {
            case .discard: return pairs
            case .keep: return pairs + ["__column\(index)__=" + String(decoding: column.rest, as: UTF8.self)]
            case .extend: pairs.append("__column\(index)__=\(value)")
            }
        }
        return pairs
    }

    /// A line of random columns: plain, well quoted (with doubled quotes), or broken on purpose.
    static func randomLine(separator: UInt8, quote: UInt8, using random: inout SeededGenerator) -> [UInt8] {
        let text: [UInt8] = Array("ab Z09-._:".utf8) + [separator, quote, 0x0D, 0xC3, 0xA9]
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in text.randomElement(using: &random)! } }
        if Int.random(in: 0..<5, using: &random) == 0 { return noise(Int.random(in: 0...70, using: &random)) }
        var line: [UInt8] = Array(repeating: 0x20, count: Int.random(in: 0...1, using: &random))
        // Now and then a long line.
        let most = Int.random(in: 0..<10, using: &random) == 0 ? 90 : 14
        for column in 0..<Int.random(in: 1...most, using: &random) {
            if column > 0 { line.append(separator) }
            let body = (0..<Int.random(in: 0...19, using: &random)).map { _ -> UInt8 in
                let byte = text.randomElement(using: &random)!
                return byte == separator || byte == quote ? 0x61 : byte
            }
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6: line += body
            case 6..<9:
                var quoted: [UInt8] = [quote]
                for byte in body {
                    switch Int.random(in: 0..<8, using: &random) {
                    case 0: quoted += [quote, quote]
                    case 1: quoted.append(separator)
                    default: quoted.append(byte)
                    }
                }
                line += quoted + [quote]
            default: line += noise(Int.random(in: 0...6, using: &random))
            }
        }
        return line + Array(" \r".utf8.prefix(Int.random(in: 0...2, using: &random)))
    }

    @Test("quoted and unquoted one-byte separators split as the byte loop does (seeded)", arguments: [
        ("|", true), (",", true), ("\t", true), ("|", false), (",", false),
    ])
    func oneByteSeparators(separator: String, quoting: Bool) throws {
        var random = SeededGenerator(seed: 0x0DE1_1A1E + UInt64(separator.utf8.first!) + (quoting ? 1 : 0))
        let sep = separator.utf8.first!
        let quote: UInt8? = quoting ? 0x22 : nil
        let settings: [(keys: [String], short: Bool, overflow: DelimiterParser.Overflow)] = [
            ((0..<20).map { "k\($0)" }, true, .extend),
            (["a", "b", "c", "d"], true, .extend),
            (["a", "b", "c", "d"], false, .keep),
            (["a", "_", "c"], true, .discard),
            (["a", "b", "c", "d", "e", "f"], false, .extend),
        ]
        for setting in settings {
            let table = KeyTable()
            let parser = try DelimiterParser(table: table, separator: separator, quote: quote, keys: setting.keys,
                                             allowingShortenedFields: setting.short, overflow: setting.overflow,
                                             policy: .logtail(discardUnmatch: false, keys: table),
                                             internedSurplusColumns: 4)
            let group = EventGroup(keys: table)
            for _ in 0..<1500 {
                let line = Self.randomLine(separator: sep, quote: 0x22, using: &random)
                let expected = Self.expectedPairs(line, separator: sep, quote: quote, keys: setting.keys,
                                                  short: setting.short, overflow: setting.overflow)
                let result = run([parser], on: line, group: group)
                #expect(result.pairs == expected, "line: \(String(decoding: line, as: UTF8.self))")
                group.reset()
            }
        }
    }

    @Test("a word's byte matches flag every equal byte and no other, and say whether there is one (seeded)")
    func exactMatches() {
        var random = SeededGenerator(seed: 0xB17E_5CA1)
        for _ in 0..<20_000 {
            let target = UInt8.random(in: 0...255, using: &random)
            let bytes = (0..<8).map { _ -> UInt8 in
                Int.random(in: 0..<3, using: &random) == 0 ? target : UInt8.random(in: 0...255, using: &random)
            }
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let expected = bytes.enumerated().reduce(UInt64(0)) {
                $1.element == target ? $0 | 0x80 << (8 * UInt64($1.offset)) : $0
            }
            #expect(ByteScan.matches(word, UInt64(target) &* ByteScan.ones) == expected)
            #expect(ByteScan.contains(word, UInt64(target) &* ByteScan.ones) == (expected != 0))
            let other = UInt64.random(in: 0...UInt64.max, using: &random)
            let otherHas = (0..<8).contains { UInt8(truncatingIfNeeded: other >> (8 * UInt64($0))) == target }
            #expect(ByteScan.contains(other, word, UInt64(target) &* ByteScan.ones) == (otherHas || expected != 0))
        }
    }
}
