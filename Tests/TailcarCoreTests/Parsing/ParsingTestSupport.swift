// ParsingTestSupport.swift
//
// Helpers for parser tests: run processors over one line the way the runtime does, read fields back as
// strings, and a seeded generator for property tests.
@testable import TailcarCore

struct ParsedRecord {
    var outcome: ProcessOutcome
    var fields: [(key: String, value: String)]
    var seconds: UInt32
    var nanoseconds: UInt32

    var pairs: [String] { fields.map { "\($0.key)=\($0.value)" } }
    var dropped: Bool { if case .drop = outcome { true } else { false } }
}

/// Opens a record holding `line` as `content`, runs the processors, commits or abandons it.
func run(_ processors: [any EventProcessor], on line: [UInt8], group: EventGroup,
         readTime: UInt32 = 7) -> ParsedRecord {
    line.withUnsafeBytes { raw in
        let range = group.beginRecord(raw: raw, seconds: readTime, nanoseconds: 0)
        group.addField(key: .table(group.keys.content), value: range)
    }
    var outcome = ProcessOutcome.keep
    for processor in processors {
        outcome = processor.process(group)
        if case .drop = outcome { break }
    }
    if case .drop = outcome {
        group.abandonRecord()
        return ParsedRecord(outcome: outcome, fields: [], seconds: 0, nanoseconds: 0)
    }
    group.commitRecord()
    let record = group.records[group.records.count - 1]
    let fields = record.fields.map { index -> (key: String, value: String) in
        let field = group.fields[index]
        let key = group.withKeyBytes(field.key) { String(decoding: $0, as: UTF8.self) }
        let value = group.withBytes(field.value) { String(decoding: $0, as: UTF8.self) }
        return (key, value)
    }
    return ParsedRecord(outcome: outcome, fields: fields, seconds: record.seconds, nanoseconds: record.nanoseconds)
}

func run(_ processor: any EventProcessor, on line: String, group: EventGroup) -> ParsedRecord {
    run([processor], on: Array(line.utf8), group: group)
}

/// A small deterministic generator (SplitMix64) for seeded property tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
