// ClickHouseRowEncoder.swift
//
// Encodes record slices as ClickHouse `JSONEachRow` rows (one JSON object a line), straight from the group
// arenas into one reused malloc'd buffer (the buffer the compressor then reads), for the default table of
// flusher_clickhouse:
//
//   {"time":1714979289,"time_ns":5,"path":"/var/log/app.log","topic":"","tags.key":["_pod_name_"],
//    "tags.value":["web-1"],"content":"GET /a","fields.key":["level"],"fields.value":["WARN"]}
//
// A field named in `columns` fills the column of that name (its first occurrence); every other field goes
// to the `fields` Nested column. Strings are JSON-escaped, but bytes of 0x80 and above are copied as they
// are: ClickHouse's String holds bytes, and its JSON reader keeps them, so invalid UTF-8 arrives unaltered.
// Values are scanned eight bytes at a time for what needs escaping and copied in runs.

import Glibc

final class ClickHouseRowEncoder {
    /// Field names with a String column of their own, in column order.
    let columns: [[UInt8]]
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written by the last `encode`.
    private(set) var count = 0
    /// Per record: the field filling each column, or -1.
    private var columnFields: [Int]

    init(columns: [String]) {
        self.columns = columns.map { Array($0.utf8) }
        capacity = 64 << 10
        base = malloc(capacity)!.assumingMemoryBound(to: UInt8.self)
        columnFields = [Int](repeating: -1, count: columns.count)
    }

    deinit { free(base) }

    /// A copy of the rows (tests).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The rows; the pointer must not escape `body`.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Encodes every record of `slices`; read the result with `withBytes`. Returns its size.
    @discardableResult
    func encode(_ slices: [RecordSlice]) -> Int {
        count = 0
        for slice in slices {
            let group = slice.group
            let head = rowHead(group.source)
            let tableColumns = group.keys.names.map { name in columns.firstIndex(of: name) ?? -1 }
            group.arena.withUnsafeBytes { arena in
                group.fields.withUnsafeBufferPointer { fields in
                    head.withUnsafeBytes { head in
                        for index in slice.records {
                            row(group.records[index], arena: arena, fields: fields, tableColumns: tableColumns,
                                names: group.keys.names, head: head)
                        }
                    }
                }
            }
        }
        return count
    }

    private func row(_ record: EventRecord, arena: UnsafeRawBufferPointer, fields: UnsafeBufferPointer<EventField>,
                     tableColumns: [Int], names: [[UInt8]], head: UnsafeRawBufferPointer) {
        literal("{\"time\":")
        decimal(record.seconds)
        literal(",\"time_ns\":")
        decimal(record.nanoseconds)
        raw(head)
        for column in columnFields.indices { columnFields[column] = -1 }
        var named = 0
        for fieldIndex in record.fields {
            let column: Int
            switch fields[fieldIndex].key {
            case .table(let index): column = tableColumns[index]
            case .arena(let range):
                let name = UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end])
                column = columns.firstIndex { $0.elementsEqual(name) } ?? -1
            }
            if column >= 0, columnFields[column] < 0 {
                columnFields[column] = fieldIndex
                named += 1
            }
        }
        for (column, fieldIndex) in columnFields.enumerated() where fieldIndex >= 0 {
            byte(UInt8(ascii: ","))
            columns[column].withUnsafeBytes { string($0) }
            byte(UInt8(ascii: ":"))
            string(value(fields[fieldIndex], arena))
        }
        literal(",\"fields.key\":[")
        let others = record.fields.count > named
        if others {
            var first = true
            for fieldIndex in record.fields where !columnFields.contains(fieldIndex) {
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                switch fields[fieldIndex].key {
                case .table(let index): names[index].withUnsafeBytes { string($0) }
                case .arena(let range): string(UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end]))
                }
            }
        }
        literal("],\"fields.value\":[")
        if others {
            var first = true
            for fieldIndex in record.fields where !columnFields.contains(fieldIndex) {
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                string(value(fields[fieldIndex], arena))
            }
        }
        literal("]}\n")
    }

    @inline(__always)
    private func value(_ field: EventField, _ arena: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let range = field.value
        return UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end])
    }

    /// `,"path":…,"topic":…,"tags.key":[…],"tags.value":[…]`, the same for every record of a source.
    private func rowHead(_ source: EventSource) -> [UInt8] {
        let mark = count
        literal(",\"path\":")
        text(source.path)
        literal(",\"topic\":")
        text(source.topic)
        literal(",\"tags.key\":[")
        for (index, tag) in source.tags.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            text(tag.key)
        }
        literal("],\"tags.value\":[")
        for (index, tag) in source.tags.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            text(tag.value)
        }
        byte(UInt8(ascii: "]"))
        let head = Array(UnsafeBufferPointer(start: base + mark, count: count - mark))
        count = mark
        return head
    }

    /// Room for `extra` more bytes.
    @inline(__always)
    private func reserve(_ extra: Int) {
        if count + extra > capacity {
            capacity = max(count + extra, capacity * 2)
            base = realloc(base, capacity)!.assumingMemoryBound(to: UInt8.self)
        }
    }

    @inline(__always)
    private func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    @inline(__always)
    private func raw(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let source = bytes.baseAddress { (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        count += bytes.count
    }

    private func literal(_ ascii: StaticString) {
        raw(UnsafeRawBufferPointer(start: ascii.utf8Start, count: ascii.utf8CodeUnitCount))
    }

    private func text(_ value: String) {
        var value = value
        value.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    private static let hex: StaticString = "0123456789abcdef"

    /// `value` in decimal, without a String.
    private func decimal(_ value: UInt32) {
        reserve(10)
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        rest = value
        for at in stride(from: count + digits - 1, through: count, by: -1) {
            base[at] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        count += digits
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each of the eight bytes of `word` (little-endian) that is a control byte, `"` or
    /// `\`; bytes of 0x80 and above never match. A borrow can mark a byte above a match too, so only the
    /// lowest mark is exact, which is the one read.
    @inline(__always)
    private static func escapeMarks(_ word: UInt64) -> UInt64 {
        let control = (word &- ones &* 0x20) & ~word
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quoteZero = (quote &- ones) & ~quote
        let backslashZero = (backslash &- ones) & ~backslash
        return (control | quoteZero | backslashZero) & highs
    }

    /// A JSON string: `"` and `\` escaped, control bytes as \n, \t or \u00XX, everything else as it is
    /// (copied in runs: most values need no escaping at all).
    private func string(_ value: UnsafeRawBufferPointer) {
        reserve(value.count * 6 + 2)
        base[count] = UInt8(ascii: "\"")
        count += 1
        guard let source = value.baseAddress else {
            base[count] = UInt8(ascii: "\"")
            count += 1
            return
        }
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var index = 0
        while index < value.count {
            if index + 8 <= value.count {
                let marks = Self.escapeMarks(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
                guard marks != 0 else {
                    index += 8
                    continue
                }
                index += marks.trailingZeroBitCount >> 3
            }
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            if index > runStart {
                (base + count).update(from: bytes + runStart, count: index - runStart)
                count += index - runStart
            }
            base[count] = UInt8(ascii: "\\")
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                base[count + 1] = byte
                count += 2
            case 0x0A:
                base[count + 1] = UInt8(ascii: "n")
                count += 2
            case 0x09:
                base[count + 1] = UInt8(ascii: "t")
                count += 2
            default:
                let hex = Self.hex.utf8Start
                base[count + 1] = UInt8(ascii: "u")
                base[count + 2] = UInt8(ascii: "0")
                base[count + 3] = UInt8(ascii: "0")
                base[count + 4] = hex[Int(byte >> 4)]
                base[count + 5] = hex[Int(byte & 15)]
                count += 6
            }
            index += 1
            runStart = index
        }
        if value.count > runStart {
            (base + count).update(from: bytes + runStart, count: value.count - runStart)
            count += value.count - runStart
        }
        base[count] = UInt8(ascii: "\"")
        count += 1
    }
}
