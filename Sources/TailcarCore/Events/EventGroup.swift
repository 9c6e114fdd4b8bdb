// EventGroup.swift
//
// The unit that moves from a tailed file to a flusher: many records from one source, their bytes in one
// arena, their fields as offset/length slices into it. Owns the record and field layout and the builder
// calls that parsing uses; does not own parsing (Parsing/) or serialisation (Flushing/, Encoding/).
//
// Layout, for two simple-mode lines "GET /a" and "GET /b":
//
//   arena   = "GET /aGET /b"
//   fields  = [ {key: .table(content), value: 0..<6}, {key: .table(content), value: 6..<12} ]
//   records = [ {time, fields: 0..<1}, {time, fields: 1..<2} ]
//
// Groups are pooled and reused: `reset()` keeps every array's capacity, so a steady stream allocates nothing.

/// A slice of an `EventGroup`'s arena.
public struct ByteRange: Hashable, Sendable {
    public var start: Int
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }

    public var end: Int { start + count }
}

/// A field name: an index into the pipeline's `KeyTable` for names known when the configuration loads
/// ("content", the regex keys), or bytes in the arena for names found in the data (JSON keys).
public enum FieldKey: Hashable, Sendable {
    case table(Int)
    case arena(ByteRange)
}

/// One field of a record: its key, and its value's bytes in the arena. Stored in 16 bytes, since field
/// tables are most of a parsed group's memory (ten fields a record took 400 bytes at the 40 an enum and two
/// ranges need): the key as its table index, or as an arena range packed `start << 32 | count` under the
/// top bit; the value as a 32-bit start and count. An arena stays far below 2 GiB (the in-flight cap is at
/// most 256 MB), and a larger offset traps rather than wrap.
public struct EventField: Sendable {
    private var packedKey: UInt64
    private var valueStart: UInt32
    private var valueCount: UInt32

    private static let arenaTag: UInt64 = 1 << 63

    public init(key: FieldKey, value: ByteRange) {
        packedKey = Self.pack(key)
        valueStart = UInt32(value.start)
        valueCount = UInt32(value.count)
    }

    public var key: FieldKey {
        get {
            guard packedKey & Self.arenaTag != 0 else { return .table(Int(truncatingIfNeeded: packedKey)) }
            return .arena(ByteRange(start: Int(truncatingIfNeeded: (packedKey >> 32) & 0x7FFF_FFFF),
                                    count: Int(truncatingIfNeeded: packedKey & 0xFFFF_FFFF)))
        }
        set { packedKey = Self.pack(newValue) }
    }

    public var value: ByteRange {
        get { ByteRange(start: Int(valueStart), count: Int(valueCount)) }
        set {
            valueStart = UInt32(newValue.start)
            valueCount = UInt32(newValue.count)
        }
    }

    private static func pack(_ key: FieldKey) -> UInt64 {
        switch key {
        case .table(let index): return UInt64(index)
        case .arena(let range):
            precondition(range.start < 1 << 31, "an arena key beyond 2 GiB")
            return arenaTag | UInt64(range.start) << 32 | UInt64(UInt32(range.count))
        }
    }
}

/// One log record: its time and the run of `EventGroup.fields` that belongs to it.
public struct EventRecord: Sendable {
    public var seconds: UInt32
    public var nanoseconds: UInt32
    public var fields: Range<Int>

    public init(seconds: UInt32, nanoseconds: UInt32, fields: Range<Int>) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.fields = fields
    }
}

/// Where a group's records came from; flushers turn it into `__path__`, `__topic__`, `__source__` and tags.
public struct EventSource: Sendable {
    public var path: String
    public var topic: String
    public var tags: [(key: String, value: String)]

    public init(path: String = "", topic: String = "", tags: [(key: String, value: String)] = []) {
        self.path = path
        self.topic = topic
        self.tags = tags
    }
}

/// Progress a group carries: once the group is acknowledged, everything of `file` before `offset` is delivered.
public struct FileProgress: Hashable, Sendable {
    public var file: FileKey
    public var offset: UInt64

    public init(file: FileKey, offset: UInt64) {
        self.file = file
        self.offset = offset
    }
}

/// Records of one source in one arena. Bound to the loop thread that fills it and the flusher it is handed to.
public final class EventGroup {
    public let keys: KeyTable
    public var arena: [UInt8] = []
    public var records: [EventRecord] = []
    public var fields: [EventField] = []
    public var source = EventSource()
    public var progress: [FileProgress] = []
    /// The footprint the pipeline counted when it took the group in flight (or kept it spare), given back
    /// when the group leaves that state.
    var chargedBytes = 0

    /// The open record: where its raw bytes start in the arena, its first field, its time, and the arena
    /// length to return to if it is abandoned; nil when no record is open.
    public private(set) var openRecord: (rawStart: Int, firstField: Int, seconds: UInt32, nanoseconds: UInt32,
                                         arenaMark: Int)?

    public init(keys: KeyTable, arenaCapacity: Int = 0, recordCapacity: Int = 0) {
        self.keys = keys
        arena.reserveCapacity(arenaCapacity)
        records.reserveCapacity(recordCapacity)
        fields.reserveCapacity(recordCapacity)
    }

    /// Bytes of raw input held by the arena (what batching limits count).
    public var byteCount: Int { arena.count }

    /// Memory the group holds as allocated: the capacity of its arena and of its record, field and
    /// progress tables, whatever part of them is used (what the in-flight cap counts).
    public var footprint: Int {
        arena.capacity + records.capacity * MemoryLayout<EventRecord>.stride
            + fields.capacity * MemoryLayout<EventField>.stride + progress.capacity * MemoryLayout<FileProgress>.stride
    }

    public var isEmpty: Bool { records.isEmpty }

    /// Hands the arena and the record and field tables to `other` (empty, and taking them for reuse) and
    /// keeps empty ones: every flusher encoded the records, and only `source` and `progress` are still
    /// needed, for the acknowledgement.
    func moveStorage(to other: EventGroup) {
        precondition(other.arena.isEmpty && other.records.isEmpty && other.fields.isEmpty && openRecord == nil,
                     "moving records into a group that has some, or out of one with an open record")
        swap(&arena, &other.arena)
        swap(&records, &other.records)
        swap(&fields, &other.fields)
        arena.removeAll()
        records.removeAll()
        fields.removeAll()
    }

    /// Groups smaller than this keep their storage until acknowledged: a live tail's reads are a few lines
    /// each, waiting a second at most for their batch, and tracking every one of them costs more CPU than
    /// their memory is worth.
    static let storageWorthReleasing = 64 << 10

    /// Whether the group's storage is given back once every flusher has read it, before the acknowledgement
    /// (the pipeline counts its readers, flusher_sls reports when it has read it): one rule for both.
    var releasesStorageEarly: Bool { footprint >= Self.storageWorthReleasing }

    /// Whether the group's storage was moved out (`moveStorage`): only its progress is left to commit.
    var hasStorage: Bool { arena.capacity > 0 || records.capacity > 0 }

    /// Empties the group for reuse, keeping capacity.
    public func reset() {
        arena.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        progress.removeAll(keepingCapacity: true)
        openRecord = nil
    }
}

// MARK: - Building records

extension EventGroup {
    /// Opens a record: copies `raw` into the arena. Field ranges given to `addField(key:rawRange:)` are relative
    /// to `raw`. Returns the arena range that now holds the raw bytes.
    @discardableResult
    public func beginRecord(raw: UnsafeRawBufferPointer, seconds: UInt32, nanoseconds: UInt32) -> ByteRange {
        precondition(openRecord == nil, "beginRecord while a record is open")
        let start = arena.count
        arena.append(contentsOf: raw)
        openRecord = (start, fields.count, seconds, nanoseconds, start)
        return ByteRange(start: start, count: raw.count)
    }

    /// Opens a record whose raw bytes are already in the arena (a reader appended a whole chunk once and
    /// opens one record per line in it). Abandoning it keeps those bytes.
    public func beginRecord(rawIn range: ByteRange, seconds: UInt32, nanoseconds: UInt32) {
        precondition(openRecord == nil, "beginRecord while a record is open")
        precondition(range.end <= arena.count, "raw range outside the arena")
        openRecord = (range.start, fields.count, seconds, nanoseconds, arena.count)
    }

    /// Adds a field whose value is a slice of the open record's raw bytes.
    public func addField(key: FieldKey, rawRange: Range<Int>) {
        guard let open = openRecord else { preconditionFailure("addField without an open record") }
        fields.append(EventField(key: key, value: ByteRange(start: open.rawStart + rawRange.lowerBound,
                                                            count: rawRange.count)))
    }

    /// Adds a field whose value is already in the arena (see `appendBytes`).
    public func addField(key: FieldKey, value: ByteRange) {
        precondition(openRecord != nil, "addField without an open record")
        fields.append(EventField(key: key, value: value))
    }

    /// Copies bytes into the arena and returns where they are. `bytes` must not point into this arena.
    public func appendBytes(_ bytes: UnsafeRawBufferPointer) -> ByteRange {
        let start = arena.count
        arena.append(contentsOf: bytes)
        return ByteRange(start: start, count: bytes.count)
    }

    /// Sets the open record's time (a time parser found it in the data).
    public func setTime(seconds: UInt32, nanoseconds: UInt32) {
        guard let open = openRecord else { preconditionFailure("setTime without an open record") }
        openRecord = (open.rawStart, open.firstField, seconds, nanoseconds, open.arenaMark)
    }

    /// The open record's fields, for processors that rewrite them in place.
    public var openFields: Range<Int> {
        guard let open = openRecord else { return fields.count..<fields.count }
        return open.firstField..<fields.count
    }

    /// Removes one field of the open record (a parser consumed its source field).
    public func removeOpenField(at index: Int) {
        precondition(openFields.contains(index), "field \(index) is not in the open record")
        // Most often the record's last field (a parser's source): nothing to shift.
        if index == fields.count &- 1 {
            fields.removeLast()
        } else {
            fields.remove(at: index)
        }
    }

    /// Closes the open record and keeps it.
    public func commitRecord() {
        guard let open = openRecord else { preconditionFailure("commitRecord without an open record") }
        records.append(EventRecord(seconds: open.seconds, nanoseconds: open.nanoseconds,
                                   fields: open.firstField..<fields.count))
        openRecord = nil
    }

    /// Closes the open record and forgets it, with every byte and field it added (a filter dropped it).
    public func abandonRecord() {
        guard let open = openRecord else { preconditionFailure("abandonRecord without an open record") }
        arena.removeSubrange(open.arenaMark...)
        fields.removeSubrange(open.firstField...)
        openRecord = nil
    }

    /// Reads a slice of the arena. The pointer must not escape `body`, and `body` must not append to the group.
    @inlinable
    public func withBytes<R>(_ range: ByteRange, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[range.start..<range.end]))
        }
    }

    /// The name of a key, as bytes.
    public func withKeyBytes<R>(_ key: FieldKey, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch key {
        case .table(let index): return try keys.withName(index, body)
        case .arena(let range): return try withBytes(range, body)
        }
    }
}
