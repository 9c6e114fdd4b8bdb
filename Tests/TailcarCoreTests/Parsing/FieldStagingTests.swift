// FieldStagingTests.swift
//
// The staging parsers fill inside the arena's scope: slices of the source and of the scratch land in the
// arena as the right bytes, a full buffer says so instead of growing, and the runner grows it and parses
// the record again, so records far larger than the first capacities come out whole.
import Testing
@testable import TailcarCore

@Suite("FieldStaging")
struct FieldStagingTests {
    @Test("source slices and scratch slices commit to the right arena bytes")
    func commitsBoth() {
        let table = KeyTable()
        let group = EventGroup(keys: table)
        let raw: [UInt8] = Array("a,\"x\"\"y\"".utf8)
        let range = raw.withUnsafeBytes { group.beginRecord(raw: $0, seconds: 1, nanoseconds: 0) }
        var staging = FieldStaging()
        staging.reset(sourceStart: range.start)
        let mark = staging.mark
        for byte in "k2".utf8 { staging.append(byte) }
        let name = staging.written(since: mark)
        let valueMark = staging.mark
        for byte in "x\"y".utf8 { staging.append(byte) }
        staging.add(.table(table.intern("k1")), .source(0..<1))
        staging.add(.bytes(name), staging.written(since: valueMark))
        let overflowed = staging.overflowed
        #expect(!overflowed)
        staging.commit(into: group)
        group.commitRecord()
        let fields = group.fields.map { field in
            group.withKeyBytes(field.key) { String(decoding: $0, as: UTF8.self) } + "="
                + group.withBytes(field.value) { String(decoding: $0, as: UTF8.self) }
        }
        #expect(fields == ["k1=a", "k2=x\"y"])
    }

    @Test("a full buffer drops what comes and says so; grow makes room for the same fill at once")
    func overflowThenGrow() {
        var staging = FieldStaging()
        staging.reset(sourceStart: 0)
        for index in 0..<100 { staging.add(.table(index), .source(index..<index + 1)) }
        let full = staging.overflowed
        #expect(full)
        staging.grow()
        staging.reset(sourceStart: 0)
        for index in 0..<100 { staging.add(.table(index), .source(index..<index + 1)) }
        let roomy = staging.overflowed
        #expect(!roomy)
        for _ in 0..<1000 { staging.append(0x61) }
        let scratchFull = staging.overflowed
        #expect(scratchFull)
    }

    @Test("records beyond the first capacities parse whole (the parse runs again after growing)")
    func largeRecords() throws {
        let table = KeyTable()
        let keys = (0..<150).map { "k\($0)" }
        let parser = try DelimiterParser(table: table, separator: ",", keys: keys,
                                         policy: .logtail(discardUnmatch: false, keys: table),
                                         internedSurplusColumns: 2)
        let group = EventGroup(keys: table)
        // 200 columns: 150 keyed, 50 surplus (48 of their names written to the scratch), every tenth one
        // quoted with doubled quotes (unescaped into the scratch too).
        let columns = (0..<200).map { $0 % 10 == 0 ? "\"q\"\"\($0)\"" : "v\($0)" }
        let result = run([parser], on: Array(columns.joined(separator: ",").utf8), group: group)
        let expected = (0..<200).map { column -> String in
            let key = column < 150 ? "k\(column)" : "__column\(column)__"
            return column % 10 == 0 ? "\(key)=q\"\(column)" : "\(key)=v\(column)"
        }
        #expect(result.pairs == expected)
        #expect(parser.counters.parsed == 1)
    }
}
