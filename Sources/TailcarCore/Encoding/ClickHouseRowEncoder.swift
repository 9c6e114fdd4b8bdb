// ClickHouseRowEncoder.swift
//
// Encodes record slices as ClickHouse `JSONEachRow` rows (one JSON object a line), straight from the group
// arenas, for the default table of flusher_clickhouse:
//
//   {"time":1714979289,"time_ns":5,"path":"/var/log/app.log","topic":"","tags.key":["_pod_name_"],
//    "tags.value":["web-1"],"content":"GET /a","fields.key":["level"],"fields.value":["WARN"]}
//
// A field named in `columns` fills the column of that name (its first occurrence); every other field goes
// to the `fields` Nested column. Strings are JSON-escaped, but bytes of 0x80 and above are copied as they
// are: ClickHouse's String holds bytes, and its JSON reader keeps them, so invalid UTF-8 arrives unaltered.

struct ClickHouseRowEncoder {
    /// Field names with a String column of their own, in column order.
    let columns: [[UInt8]]
    private(set) var bytes: [UInt8] = []

    init(columns: [String]) {
        self.columns = columns.map { Array($0.utf8) }
        bytes.reserveCapacity(64 << 10)
    }

    /// Encodes every record of `slices`; read the result from `bytes`. Returns its size.
    @discardableResult
    mutating func encode(_ slices: [RecordSlice]) -> Int {
        bytes.removeAll(keepingCapacity: true)
        var columnFields = [Int?](repeating: nil, count: columns.count)
        for slice in slices {
            let group = slice.group
            let head = rowHead(group.source)
            for index in slice.records {
                let record = group.records[index]
                append("{\"time\":")
                decimal(record.seconds)
                append(",\"time_ns\":")
                decimal(record.nanoseconds)
                bytes.append(contentsOf: head)
                for column in columnFields.indices { columnFields[column] = nil }
                for fieldIndex in record.fields {
                    let key = group.fields[fieldIndex].key
                    if let column = columns.firstIndex(where: { name in group.withKeyBytes(key) { $0.elementsEqual(name) } }),
                       columnFields[column] == nil {
                        columnFields[column] = fieldIndex
                    }
                }
                for (column, fieldIndex) in columnFields.enumerated() {
                    guard let fieldIndex else { continue }
                    bytes.append(UInt8(ascii: ","))
                    columns[column].withUnsafeBytes { string($0) }
                    bytes.append(UInt8(ascii: ":"))
                    group.withBytes(group.fields[fieldIndex].value) { string($0) }
                }
                append(",\"fields.key\":[")
                var first = true
                for fieldIndex in record.fields where !columnFields.contains(fieldIndex) {
                    if !first { bytes.append(UInt8(ascii: ",")) }
                    first = false
                    group.withKeyBytes(group.fields[fieldIndex].key) { string($0) }
                }
                append("],\"fields.value\":[")
                first = true
                for fieldIndex in record.fields where !columnFields.contains(fieldIndex) {
                    if !first { bytes.append(UInt8(ascii: ",")) }
                    first = false
                    group.withBytes(group.fields[fieldIndex].value) { string($0) }
                }
                append("]}\n")
            }
        }
        return bytes.count
    }

    /// `,"path":…,"topic":…,"tags.key":[…],"tags.value":[…]`, the same for every record of a source.
    private mutating func rowHead(_ source: EventSource) -> [UInt8] {
        let mark = bytes.count
        append(",\"path\":")
        text(source.path)
        append(",\"topic\":")
        text(source.topic)
        append(",\"tags.key\":[")
        for (index, tag) in source.tags.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            text(tag.key)
        }
        append("],\"tags.value\":[")
        for (index, tag) in source.tags.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            text(tag.value)
        }
        bytes.append(UInt8(ascii: "]"))
        let head = Array(bytes[mark...])
        bytes.removeSubrange(mark...)
        return head
    }

    private mutating func append(_ ascii: String) { bytes.append(contentsOf: ascii.utf8) }

    private mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// `value` in decimal, without a String.
    private mutating func decimal(_ value: UInt32) {
        var rest = value
        var digits: (UInt64, UInt64) = (0, 0)  // 16 bytes: room for any UInt32
        withUnsafeMutableBytes(of: &digits) { buffer in
            var at = buffer.count
            repeat {
                at -= 1
                buffer[at] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[at...]))
        }
    }

    /// A JSON string: `"` and `\` escaped, control bytes as \n, \t or \u00XX, everything else as it is
    /// (copied in runs: most values need no escaping at all).
    private mutating func string(_ value: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for (index, byte) in value.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            if index > runStart { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[runStart..<index])) }
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0x0A:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "n"))
            case 0x09:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 15)]])
            }
        }
        if value.count > runStart { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }
}
