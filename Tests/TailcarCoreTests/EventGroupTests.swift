// Tests of the EventGroup arena and builder.
import Testing
@testable import TailcarCore

@Suite("EventGroup")
struct EventGroupTests {
    @Test("a committed record's fields slice the arena; an abandoned one leaves no trace")
    func buildAndAbandon() {
        let group = EventGroup(keys: KeyTable())
        let first: [UInt8] = Array("GET /a 200".utf8)
        first.withUnsafeBytes { raw in
            group.beginRecord(raw: raw, seconds: 1, nanoseconds: 2)
            group.addField(key: .table(group.keys.content), rawRange: 0..<6)
        }
        group.commitRecord()
        Array("dropped".utf8).withUnsafeBytes { raw in
            group.beginRecord(raw: raw, seconds: 3, nanoseconds: 0)
            group.addField(key: .table(0), rawRange: 0..<7)
        }
        group.abandonRecord()

        #expect(group.records.count == 1)
        #expect(group.fields.count == 1)
        #expect(group.arena.count == first.count)
        let value = group.withBytes(group.fields[0].value) { Array($0) }
        #expect(value == Array("GET /a".utf8))
        #expect(group.records[0].seconds == 1 && group.records[0].nanoseconds == 2)
    }

    @Test("reset keeps capacity and empties every table")
    func resetKeepsCapacity() {
        let group = EventGroup(keys: KeyTable(), arenaCapacity: 4096, recordCapacity: 64)
        Array("x".utf8).withUnsafeBytes { group.beginRecord(raw: $0, seconds: 0, nanoseconds: 0) }
        group.commitRecord()
        group.reset()
        #expect(group.isEmpty && group.arena.isEmpty && group.fields.isEmpty)
        #expect(group.arena.capacity >= 4096)
    }

    @Test("a field packs its key and value into 16 bytes and gives back exactly what it was given")
    func fieldPacking() {
        #expect(MemoryLayout<EventField>.stride == 16)
        let ranges = [ByteRange(start: 0, count: 0), ByteRange(start: 7, count: 3),
                      ByteRange(start: (1 << 31) - 1, count: Int(UInt32.max)), ByteRange(start: 1 << 20, count: 10 << 20)]
        for range in ranges {
            for key in [FieldKey.table(0), .table(41), .arena(range), .arena(ByteRange(start: 5, count: 0))] {
                var field = EventField(key: key, value: range)
                #expect(field.key == key && field.value == range)
                field.value.count -= min(1, range.count)
                #expect(field.key == key && field.value.start == range.start)
                field.key = .table(3)
                #expect(field.key == .table(3))
            }
        }
    }
}
