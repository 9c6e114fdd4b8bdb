// LogGroupEncoder.swift
//
// Writes the SLS `LogGroup` protobuf (proto2, log_logs.proto) straight from `EventGroup` arenas into one
// reused buffer. Owns the wire layout and the mapping of group metadata to proto fields; does not own
// batching (which groups go together), compression or the HTTP request.
//
// Wire layout written, for one record {time 1405409656, content "TestKey"="TestContent"}, topic "",
// source "10.230.201.117" and the tag __path__=/a.log:
//
//   0A <len> | 08 <varint time> | 12 <len> 0A 07 "TestKey" 12 0B "TestContent" | [25 <4 bytes ns>]
//   1A 00                                   Topic (field 3, written even when empty, as the SDK does)
//   22 0E "10.230.201.117"                  Source (field 4)
//   32 <len> 0A 08 "__path__" 12 06 "/a.log" LogTags (field 6), one per tag
//
// Every length is computed before it is written (sizes first, then bytes), so nothing is built per
// record and, once the buffer has grown to the largest request, encoding allocates nothing.

import Glibc

/// The LogGroup-level fields shared by every record of one request.
///
/// What goes where (iLogtail's SLSSerializer does the same):
/// - `topic` → field 3 (`__topic__` in SLS);
/// - `source` → field 4 (`__source__`; Logtail puts the host or pod IP here);
/// - `tags` → field 6, one `LogTag` each, in the given order. `__path__` is a tag, not a content.
public struct LogGroupMeta: Sendable {
    public var topic: String
    public var source: String
    public var tags: [(key: String, value: String)]

    public init(topic: String, source: String, tags: [(key: String, value: String)] = []) {
        self.topic = topic
        self.source = source
        self.tags = tags
    }

    /// Logtail truncates `__path__` to this many bytes.
    public static let maxPathTagBytes = 511

    /// The metadata of one `EventGroup`: its topic, `source` (the host/pod IP), then the tags
    /// `__path__` (the file path, truncated to 511 bytes, omitted when empty), the group's own
    /// `source.tags`, then `extraTags` (environment tags, `__hostname__`, `__pack_id__`, ...).
    public init(group: EventSource, source: String, extraTags: [(key: String, value: String)] = []) {
        var tags: [(key: String, value: String)] = []
        if !group.path.isEmpty {
            let utf8 = Array(group.path.utf8)
            let cut = utf8.count <= Self.maxPathTagBytes ? utf8 : Array(utf8[..<Self.maxPathTagBytes])
            tags.append((key: "__path__", value: String(decoding: cut, as: UTF8.self)))
        }
        tags.append(contentsOf: group.tags)
        tags.append(contentsOf: extraTags)
        self.init(topic: group.topic, source: source, tags: tags)
    }
}

/// Consecutive records of one group: the unit a batch is made of (a group larger than a request is cut
/// into several slices).
public struct RecordSlice {
    public let group: EventGroup
    public var records: Range<Int>

    public init(group: EventGroup, records: Range<Int>) {
        self.group = group
        self.records = records
    }
}

/// Encodes LogGroups into a buffer it owns and reuses. Bound to one thread (not `Sendable`).
public struct LogGroupEncoder {
    private var buffer: [UInt8]
    /// Bytes of the last encoding at the front of `buffer`.
    public private(set) var count: Int = 0
    /// Whether `Log.Time_ns` (field 4) is written. iLogtail's default (`EnableTimestampNanosecond`) is off.
    public var includeNanoseconds: Bool

    public init(initialCapacity: Int = 64 * 1024, includeNanoseconds: Bool = false) {
        buffer = [UInt8](repeating: 0, count: max(initialCapacity, 16))
        self.includeNanoseconds = includeNanoseconds
    }

    /// Encodes every record of `groups`, in order, as one LogGroup with `meta`. Returns the byte count;
    /// read the bytes with `withEncoded`. The previous encoding is overwritten.
    @discardableResult
    public mutating func encode(groups: [EventGroup], meta: LogGroupMeta) -> Int {
        encode(slices: groups.map { RecordSlice(group: $0, records: 0..<$0.records.count) }, meta: meta)
    }

    /// Encodes the records of every slice, in order, as one LogGroup with `meta`. `logBytes`, when the
    /// caller already summed `encodedSize` over these records (a batch does as it fills), saves a pass.
    @discardableResult
    public mutating func encode(slices: [RecordSlice], meta: LogGroupMeta, logBytes: Int? = nil) -> Int {
        var total = logBytes ?? 0
        if logBytes == nil {
            for slice in slices {
                for index in slice.records { total += encodedSize(of: slice.group.records[index], in: slice.group) }
            }
        }
        total += metaSize(meta)
        if buffer.count < total {
            buffer = [UInt8](repeating: 0, count: max(total, buffer.count * 2))
        }
        // Moved out so the write closures may read `self` (the move keeps the storage unique: no copy).
        var storage = buffer
        buffer = []
        storage.withUnsafeMutableBytes { out in
            var writer = ProtoWriter(out.baseAddress!)
            for slice in slices { writeLogs(of: slice, to: &writer) }
            writeMeta(meta, to: &writer)
            precondition(writer.written(from: out.baseAddress!) == total, "LogGroup size mismatch")
        }
        buffer = storage
        count = total
        return total
    }

    /// Bytes `record` adds to a LogGroup (the `Log` message with its tag and length): what batching
    /// counts against the request size limit.
    public func encodedSize(of record: EventRecord, in group: EventGroup) -> Int {
        let size = logSize(record, in: group)
        return 1 + varintSize(UInt64(size)) + size
    }

    /// Encodes one group's records with `meta`.
    @discardableResult
    public mutating func encode(group: EventGroup, meta: LogGroupMeta) -> Int {
        encode(groups: [group], meta: meta)
    }

    /// The last encoding. The pointer must not escape `body`.
    public func withEncoded<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// A copy of the last encoding (tests and diagnostics).
    public var encodedBytes: [UInt8] { Array(buffer[0..<count]) }
}

// MARK: - Sizes

extension LogGroupEncoder {
    private func keyCount(_ key: FieldKey, in group: EventGroup) -> Int {
        switch key {
        case .table(let index): return group.keys.names[index].count
        case .arena(let range): return range.count
        }
    }

    private func contentSize(keyCount: Int, valueCount: Int) -> Int {
        1 + varintSize(UInt64(keyCount)) + keyCount + 1 + varintSize(UInt64(valueCount)) + valueCount
    }

    /// Size of one `Log` message body (without its own tag and length).
    private func logSize(_ record: EventRecord, in group: EventGroup) -> Int {
        var size = 1 + varintSize(UInt64(record.seconds))
        for index in record.fields {
            let field = group.fields[index]
            let content = contentSize(keyCount: keyCount(field.key, in: group), valueCount: field.value.count)
            size += 1 + varintSize(UInt64(content)) + content
        }
        if includeNanoseconds { size += 5 }
        return size
    }

    private func metaSize(_ meta: LogGroupMeta) -> Int {
        var size = stringFieldSize(meta.topic.utf8.count) + stringFieldSize(meta.source.utf8.count)
        for tag in meta.tags {
            let inner = contentSize(keyCount: tag.key.utf8.count, valueCount: tag.value.utf8.count)
            size += 1 + varintSize(UInt64(inner)) + inner
        }
        return size
    }

    private func stringFieldSize(_ count: Int) -> Int { 1 + varintSize(UInt64(count)) + count }
}

// MARK: - Writing

extension LogGroupEncoder {
    private func writeLogs(of slice: RecordSlice, to writer: inout ProtoWriter) {
        let group = slice.group
        group.arena.withUnsafeBytes { arena in
            for record in group.records[slice.records] {
                writer.byte(0x0A)
                writer.varint(UInt64(logSize(record, in: group)))
                writer.byte(0x08)
                writer.varint(UInt64(record.seconds))
                for index in record.fields {
                    let field = group.fields[index]
                    let value = UnsafeRawBufferPointer(rebasing: arena[field.value.start..<field.value.end])
                    switch field.key {
                    case .table(let key):
                        group.keys.names[key].withUnsafeBytes { writer.content(tag: 0x12, key: $0, value: value) }
                    case .arena(let range):
                        let key = UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end])
                        writer.content(tag: 0x12, key: key, value: value)
                    }
                }
                if includeNanoseconds {
                    writer.byte(0x25)
                    writer.fixed32(record.nanoseconds)
                }
            }
        }
    }

    private func writeMeta(_ meta: LogGroupMeta, to writer: inout ProtoWriter) {
        var topic = meta.topic
        topic.withUTF8 { writer.lengthDelimited(tag: 0x1A, UnsafeRawBufferPointer($0)) }
        var source = meta.source
        source.withUTF8 { writer.lengthDelimited(tag: 0x22, UnsafeRawBufferPointer($0)) }
        for tag in meta.tags {
            var key = tag.key
            var value = tag.value
            key.withUTF8 { k in
                value.withUTF8 { v in
                    writer.content(tag: 0x32, key: UnsafeRawBufferPointer(k), value: UnsafeRawBufferPointer(v))
                }
            }
        }
    }
}

/// Bytes a base-128 varint of `value` takes.
@inline(__always)
func varintSize(_ value: UInt64) -> Int {
    var v = value
    var size = 1
    while v >= 0x80 {
        v >>= 7
        size += 1
    }
    return size
}

/// A cursor over memory already sized for what it will write.
struct ProtoWriter {
    private var cursor: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) { cursor = start }

    func written(from start: UnsafeMutableRawPointer) -> Int { cursor - start }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        cursor.storeBytes(of: value, as: UInt8.self)
        cursor += 1
    }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    mutating func fixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { byte(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        cursor.copyMemory(from: base, byteCount: bytes.count)
        cursor += bytes.count
    }

    mutating func lengthDelimited(tag: UInt8, _ bytes: UnsafeRawBufferPointer) {
        byte(tag)
        varint(UInt64(bytes.count))
        raw(bytes)
    }

    /// A key/value message (Log.Content or LogTag: Key = 1, Value = 2) under `tag`.
    mutating func content(tag: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        byte(tag)
        let inner = 1 + varintSize(UInt64(key.count)) + key.count + 1 + varintSize(UInt64(value.count)) + value.count
        varint(UInt64(inner))
        lengthDelimited(tag: 0x0A, key)
        lengthDelimited(tag: 0x12, value)
    }
}
