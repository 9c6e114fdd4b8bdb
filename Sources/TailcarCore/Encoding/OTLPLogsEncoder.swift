// OTLPLogsEncoder.swift
//
// Encodes record slices as an OTLP `ExportLogsServiceRequest` (opentelemetry-proto, logs/v1), straight from
// the group arenas. Slices of one source (path, topic, tags) share a ResourceLogs whose resource carries
// them as attributes, named after OpenTelemetry's semantic conventions where one exists; one ScopeLogs
// (scope `tailcar`) holds their LogRecords. A record's body is its `bodyKey` field; every other field is a
// log attribute (a key twice: the last value, as OTLP keys are unique). Values that are not valid UTF-8 go
// as `bytes_value`, so nothing is altered.
//
//   ExportLogsServiceRequest { 1: ResourceLogs { 1: Resource { 1: KeyValue* }, 2: ScopeLogs {
//       1: InstrumentationScope { 1: name, 2: version }, 2: LogRecord { 1: time_unix_nano (fixed64),
//       11: observed_time_unix_nano (fixed64), 5: body AnyValue, 6: KeyValue* } } } }

/// Resource attribute names for Tailcar's tags (OpenTelemetry semantic conventions); others keep their name.
enum OTLPAttributeNames {
    static let path = "log.file.path"
    static let topic = "__topic__"
    static let tags: [String: String] = [
        "_pod_name_": "k8s.pod.name", "_namespace_": "k8s.namespace.name", "_node_name_": "k8s.node.name",
        "_container_name_": "k8s.container.name", "_pod_uid_": "k8s.pod.uid", "_pod_ip_": "k8s.pod.ip",
        "_node_ip_": "k8s.node.ip", AgentTags.hostnameKey: "host.name",
    ]

    static func tag(_ key: String) -> String { tags[key] ?? key }
}

struct OTLPLogsEncoder {
    static let scopeName = "tailcar"
    static let scopeVersion = "1"
    static let batchLengthHint = 1 << 14

    /// The field whose value becomes the body.
    let bodyKey: [UInt8]
    private let writer = ProtobufWriter()

    init(bodyKey: String) { self.bodyKey = Array(bodyKey.utf8) }

    /// The encoded request for `slices`; `observed[i]` is the observed time (ns) of `slices[i]`'s records.
    /// Returns the encoded size; read the bytes with `withEncoded`.
    @discardableResult
    mutating func encode(_ slices: [RecordSlice], observed: [UInt64]) -> Int {
        writer.reset()
        var order: [BatchKey] = []
        var members: [BatchKey: [Int]] = [:]
        for (index, slice) in slices.enumerated() {
            let key = BatchKey(slice.group.source)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(index)
        }
        for key in order {
            let indices = members[key]!
            // A batch's ResourceLogs and ScopeLogs usually take 16 KiB to 2 MiB: three length bytes.
            let resourceLogs = writer.begin(1, expectedLength: Self.batchLengthHint)
            resource(slices[indices[0]].group.source)
            let scopeLogs = writer.begin(2, expectedLength: Self.batchLengthHint)
            let scope = writer.begin(1)
            writer.stringField(1, Self.scopeName)
            writer.stringField(2, Self.scopeVersion)
            writer.end(scope)
            for index in indices { logRecords(slices[index], observed: observed[index]) }
            writer.end(scopeLogs)
            writer.end(resourceLogs)
        }
        return writer.count
    }

    func withEncoded<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try writer.withBytes(body)
    }

    var encodedBytes: [UInt8] { writer.bytes }

    private mutating func resource(_ source: EventSource) {
        let resource = writer.begin(1)
        if !source.path.isEmpty { stringAttribute(OTLPAttributeNames.path, source.path) }
        if !source.topic.isEmpty { stringAttribute(OTLPAttributeNames.topic, source.topic) }
        for tag in source.tags { stringAttribute(OTLPAttributeNames.tag(tag.key), tag.value) }
        writer.end(resource)
    }

    private mutating func stringAttribute(_ key: String, _ value: String) {
        let keyValue = writer.begin(1)
        writer.stringField(1, key)
        let anyValue = writer.begin(2)
        writer.stringField(1, value)
        writer.end(anyValue)
        writer.end(keyValue)
    }

    /// What a slice's records are read through: the arena and field table of its group, and for each name
    /// of its key table whether it is the body key and valid UTF-8, so records compare indices, not bytes.
    private struct SliceView {
        let arena: UnsafeRawBufferPointer
        let fields: UnsafeBufferPointer<EventField>
        let names: [[UInt8]]
        let nameIsBody: [Bool]
        let nameIsUTF8: [Bool]

        func withKey<R>(_ key: FieldKey, _ body: (UnsafeRawBufferPointer) -> R) -> R {
            switch key {
            case .table(let index): return names[index].withUnsafeBytes(body)
            case .arena(let range): return body(UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end]))
            }
        }

        func bytes(_ range: ByteRange) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: arena[range.start..<range.end])
        }

        func isBody(_ key: FieldKey, bodyKey: [UInt8]) -> Bool {
            switch key {
            case .table(let index): return nameIsBody[index]
            case .arena(let range): return bytes(range).elementsEqual(bodyKey)
            }
        }

        func sameKey(_ a: FieldKey, _ b: FieldKey) -> Bool {
            if case .table(let x) = a, case .table(let y) = b { return x == y }
            return withKey(a) { mine in withKey(b) { mine.elementsEqual($0) } }
        }
    }

    private mutating func logRecords(_ slice: RecordSlice, observed: UInt64) {
        let group = slice.group
        let names = group.keys.names
        let nameIsBody = names.map { $0 == bodyKey }
        let nameIsUTF8 = names.map { name in name.withUnsafeBytes { isValidUTF8($0) } }
        group.arena.withUnsafeBytes { arena in
            group.fields.withUnsafeBufferPointer { fields in
                let view = SliceView(arena: arena, fields: fields, names: names, nameIsBody: nameIsBody,
                                     nameIsUTF8: nameIsUTF8)
                for index in slice.records { logRecord(group.records[index], in: view, observed: observed) }
            }
        }
    }

    private mutating func logRecord(_ record: EventRecord, in view: SliceView, observed: UInt64) {
        // The record's size, near enough that its length and its body's are patched in place.
        var expected = 18
        for fieldIndex in record.fields { expected += view.fields[fieldIndex].value.count + 8 }
        let message = writer.begin(2, expectedLength: expected)
        writer.fixed64(1, UInt64(record.seconds) &* 1_000_000_000 &+ UInt64(record.nanoseconds))
        writer.fixed64(11, observed)
        var bodyField: Int?
        for fieldIndex in record.fields where view.isBody(view.fields[fieldIndex].key, bodyKey: bodyKey) {
            bodyField = fieldIndex
            break
        }
        if let bodyField {
            let value = view.bytes(view.fields[bodyField].value)
            let body = writer.begin(5, expectedLength: value.count + 3)
            anyValue(value)
            writer.end(body)
        }
        for fieldIndex in record.fields where fieldIndex != bodyField {
            let field = view.fields[fieldIndex]
            if repeatsLater(field.key, after: fieldIndex, in: record.fields, of: view, body: bodyField) { continue }
            let value = view.bytes(field.value)
            let keyValue = writer.begin(6, expectedLength: value.count + 16)
            let key = field.key
            let keyIsUTF8: Bool
            if case .table(let index) = key { keyIsUTF8 = view.nameIsUTF8[index] } else { keyIsUTF8 = view.withKey(key, isValidUTF8) }
            view.withKey(key) { bytes in
                if keyIsUTF8 {
                    writer.bytesField(1, bytes)
                } else {
                    writer.stringField(1, String(decoding: bytes, as: UTF8.self))
                }
            }
            let anyValueMark = writer.begin(2, expectedLength: value.count + 3)
            anyValue(value)
            writer.end(anyValueMark)
            writer.end(keyValue)
        }
        writer.end(message)
    }

    /// Whether a later attribute of the record has the same key: OTLP keys must be unique, and the last
    /// value wins, as in a JSON object read twice over one key.
    private func repeatsLater(_ key: FieldKey, after index: Int, in fields: Range<Int>, of view: SliceView,
                              body: Int?) -> Bool {
        for later in (index + 1)..<fields.upperBound where later != body {
            if view.sameKey(key, view.fields[later].key) { return true }
        }
        return false
    }

    /// An AnyValue's content: `string_value`, or `bytes_value` for bytes that are not UTF-8.
    private mutating func anyValue(_ bytes: UnsafeRawBufferPointer) {
        writer.bytesField(isValidUTF8(bytes) ? 1 : 7, bytes)
    }
}
