// RecordJSONWriter.swift
//
// One JSON object per record, for flusher_stdout and flusher_file:
//
//   {"__time__":1732668000,"__time_ns__":5,"__path__":"/l/a.log","__topic__":"t","content":"GET /",
//    "__tag__:_pod_name_":"web-1"}
//
// `__time_ns__` only when non-zero, `__topic__` only when non-empty. Strings are escaped losslessly for any
// bytes: valid UTF-8 is copied as it is; `"` and `\` are escaped; control bytes become \n \r \t \b \f or
// \u00XX (NUL is \u0000); each byte of an invalid UTF-8 sequence becomes \udcXX, where XX is the byte:
// Python's "surrogateescape", so `json.loads(s)` then `.encode("utf-8", "surrogateescape")` gives back the
// original bytes exactly. Owns the format; writing it out is the flusher's.
//
// A group is written into a ByteSink through unsafe views of its arena and field table; what every record
// of the group shares (path and topic, tags, each table key as `,"key":`) is escaped once per group, and a
// string with no byte to escape is found eight bytes at a time and copied whole.

public enum RecordJSONWriter {
    /// Appends one line per record of `group` to `out`.
    public static func append(_ group: EventGroup, to out: inout [UInt8]) {
        var sink = ByteSink(capacity: 4096)
        append(group, to: &sink)
        out.append(contentsOf: sink.bytes)
    }

    static func append(_ group: EventGroup, to sink: inout ByteSink) {
        let shared = SharedParts(group)
        // Records read together share their time: its text is written once and copied while it repeats.
        var time = ByteSink(capacity: 64)
        var timeOf: (seconds: UInt32, nanoseconds: UInt32)?
        group.arena.withUnsafeBytes { arena in
            group.fields.withUnsafeBufferPointer { fields in
                for record in group.records {
                    if timeOf == nil || timeOf! != (record.seconds, record.nanoseconds) {
                        timeOf = (record.seconds, record.nanoseconds)
                        time.removeAll()
                        time.appendReserving(#"{"__time__":"#)
                        time.appendDecimal(UInt64(record.seconds))
                        if record.nanoseconds != 0 {
                            time.appendReserving(#","__time_ns__":"#)
                            time.appendDecimal(UInt64(record.nanoseconds))
                        }
                    }
                    sink.appendReserving(time.bytes)
                    sink.appendReserving(shared.source.bytes)
                    for field in UnsafeBufferPointer(rebasing: fields[record.fields]) {
                        switch field.key {
                        case .table(let index):
                            sink.appendReserving(shared.key(index))
                        case .arena(let range):
                            sink.appendReserving(",")
                            appendString(UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end]), to: &sink)
                            sink.appendReserving(":")
                        }
                        appendString(UnsafeRawBufferPointer(rebasing: arena[field.value.start..<field.value.end]),
                                     to: &sink)
                    }
                    sink.appendReserving(shared.tags.bytes)
                    sink.appendReserving("}\n")
                }
            }
        }
    }

    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var copy = text
        copy.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// A JSON string literal, quotes included, for arbitrary bytes.
    public static func appendString(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var sink = ByteSink(capacity: bytes.count * 6 + 2)
        appendString(bytes, to: &sink)
        out.append(contentsOf: sink.bytes)
    }

    static func appendString(_ text: String, to sink: inout ByteSink) {
        var copy = text
        copy.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &sink) }
    }

    /// A JSON string literal, quotes included, for arbitrary bytes.
    static func appendString(_ bytes: UnsafeRawBufferPointer, to sink: inout ByteSink) {
        let count = bytes.count
        sink.reserve(count * 6 + 2)
        sink.append(0x22)
        var index = ByteScan.firstJSONStringSpecial(in: bytes, from: 0, orNonASCII: true)
        guard index < count else {
            sink.append(bytes)
            sink.append(0x22)
            return
        }
        var runStart = 0
        while index < count {
            let byte = bytes[index]
            if byte >= 0x20, byte != 0x22, byte != 0x5C, byte < 0x80 {
                index += 1
                continue
            }
            if byte >= 0x80, let length = validSequenceLength(bytes, at: index) {
                index += length
                continue
            }
            sink.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
            escape(byte, to: &sink)
            index += 1
            runStart = index
        }
        sink.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<count]))
        sink.append(0x22)
    }

    private static let hex: StaticString = "0123456789abcdef"

    /// One escaped byte, at most six bytes long (reserved by the caller).
    private static func escape(_ byte: UInt8, to sink: inout ByteSink) {
        sink.append(0x5C)
        switch byte {
        case 0x22: sink.append(0x22)
        case 0x5C: sink.append(0x5C)
        case 0x0A: sink.append(0x6E)
        case 0x0D: sink.append(0x72)
        case 0x09: sink.append(0x74)
        case 0x08: sink.append(0x62)
        case 0x0C: sink.append(0x66)
        default:
            // Control bytes as \u00XX; bytes of invalid UTF-8 as the lone surrogate \udcXX.
            sink.append(0x75)
            if byte < 0x80 {
                sink.append(0x30)
                sink.append(0x30)
            } else {
                sink.append(0x64)
                sink.append(0x63)
            }
            sink.append(hex.utf8Start[Int(byte >> 4)])
            sink.append(hex.utf8Start[Int(byte & 0x0F)])
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF), or nil.
    private static func validSequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { return nil }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return nil }
        return length
    }
}

/// What every record of one group shares, escaped once: `,"__path__":...` (and `,"__topic__":...`), the
/// tags as `,"__tag__:k":"v"`, and each name of the key table as `,"name":`.
private struct SharedParts: ~Copyable {
    private(set) var source = ByteSink(capacity: 256)
    private(set) var tags = ByteSink(capacity: 256)
    private var keys = ByteSink(capacity: 512)
    /// Where each table key's part ends in `keys` (it starts where the previous one ends).
    private let keyEnds: UnsafeMutableBufferPointer<Int>

    init(_ group: EventGroup) {
        source.appendReserving(#","__path__":"#)
        RecordJSONWriter.appendString(group.source.path, to: &source)
        if !group.source.topic.isEmpty {
            source.appendReserving(#","__topic__":"#)
            RecordJSONWriter.appendString(group.source.topic, to: &source)
        }
        for tag in group.source.tags {
            tags.appendReserving(",")
            RecordJSONWriter.appendString("__tag__:" + tag.key, to: &tags)
            tags.appendReserving(":")
            RecordJSONWriter.appendString(tag.value, to: &tags)
        }
        let names = group.keys.names
        keyEnds = .allocate(capacity: max(1, names.count))
        for (index, name) in names.enumerated() {
            keys.appendReserving(",")
            name.withUnsafeBytes { RecordJSONWriter.appendString($0, to: &keys) }
            keys.appendReserving(":")
            keyEnds[index] = keys.count
        }
    }

    deinit { keyEnds.deallocate() }

    /// `,"name":` for table key `index`.
    func key(_ index: Int) -> UnsafeRawBufferPointer {
        let start = index == 0 ? 0 : keyEnds[index - 1]
        return UnsafeRawBufferPointer(start: keys.base + start, count: keyEnds[index] - start)
    }
}
