// Tests of LogGroupEncoder: bytes against golden values (cross-checked once with the official Python SDK's
// log_logs_pb2 serialiser; the first Log is also worked by hand below) and buffer reuse.
import Testing
@testable import TailcarCore

func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    func value(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
    return stride(from: 0, to: digits.count, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
}

/// A group of records, each a list of (key, value); keys named "content" use the table, others the arena.
func makeGroup(_ records: [(seconds: UInt32, nanoseconds: UInt32, fields: [(String, String)])]) -> EventGroup {
    let group = EventGroup(keys: KeyTable())
    for record in records {
        let raw = Array(record.fields.map { $0.0 + $0.1 }.joined().utf8)
        raw.withUnsafeBytes { group.beginRecord(raw: $0, seconds: record.seconds, nanoseconds: record.nanoseconds) }
        var offset = 0
        for (key, value) in record.fields {
            let keyCount = key.utf8.count
            let valueRange = group.openRecord!.rawStart + offset + keyCount
            if key == "content" {
                group.addField(key: .table(group.keys.content),
                               value: ByteRange(start: valueRange, count: value.utf8.count))
            } else {
                group.addField(key: .arena(ByteRange(start: group.openRecord!.rawStart + offset, count: keyCount)),
                               value: ByteRange(start: valueRange, count: value.utf8.count))
            }
            offset += keyCount + value.utf8.count
        }
        group.commitRecord()
    }
    return group
}

@Suite("LogGroupEncoder")
struct LogGroupEncoderTests {
    // First Log, by hand: 0A 1D | 08 F8 B2 93 9E 05 (1405409656 = 0x53C4D978 as a varint) |
    // 12 15 0A 07 "content" 12 0A "GET /a 200"   (29 = 1 + 5 + 2 + 21)
    static let golden = hexBytes(
        "0a1d08f8b2939e0512150a07636f6e74656e74120a474554202f61203230300a230880e2cfaa06120c0a07636f6e74656e"
            + "74120178120d0a0673746174757312033530301a00220e31302e3233302e3230312e313137321a0a085f5f706174685f"
            + "5f120e2f7661722f6c6f672f612e6c6f6732130a0a5f706f645f6e616d655f12057765622d31")

    @Test("two records, an empty topic, a source and two tags encode to the SDK's bytes")
    func goldenBytes() {
        let group = makeGroup([(1_405_409_656, 7, [("content", "GET /a 200")]),
                               (1_700_000_000, 9, [("content", "x"), ("status", "500")])])
        group.source = EventSource(path: "/var/log/a.log", topic: "", tags: [(key: "_pod_name_", value: "web-1")])
        var encoder = LogGroupEncoder()
        let count = encoder.encode(group: group, meta: LogGroupMeta(group: group.source, source: "10.230.201.117"))
        #expect(count == Self.golden.count)
        #expect(encoder.encodedBytes == Self.golden)
    }

    @Test("Time_ns is written as fixed32 after the contents when enabled, and an empty value is kept")
    func nanoseconds() {
        let group = makeGroup([(1, 123_456_789, [("k", "")])])
        var encoder = LogGroupEncoder(includeNanoseconds: true)
        encoder.encode(group: group, meta: LogGroupMeta(topic: "tp", source: ""))
        #expect(encoder.encodedBytes == hexBytes("0a0e080112050a016b12002515cd5b071a0274702200"))
    }

    @Test("several groups become one LogGroup in order, and meta is written once")
    func severalGroups() {
        let a = makeGroup([(1_405_409_656, 0, [("content", "GET /a 200")])])
        let b = makeGroup([(1_700_000_000, 0, [("content", "x"), ("status", "500")])])
        let meta = LogGroupMeta(topic: "", source: "10.230.201.117",
                                tags: [(key: "__path__", value: "/var/log/a.log"), (key: "_pod_name_", value: "web-1")])
        var encoder = LogGroupEncoder()
        encoder.encode(groups: [a, b], meta: meta)
        #expect(encoder.encodedBytes == Self.golden)
    }

    @Test("a tiny buffer grows, later encodings reuse it, and lengths above 127 take two varint bytes")
    func growthAndLongValues() {
        let long = String(repeating: "v", count: 300)
        let group = makeGroup([(5, 0, [("content", long)])])
        var encoder = LogGroupEncoder(initialCapacity: 1)
        encoder.encode(group: group, meta: LogGroupMeta(topic: "", source: ""))
        let bytes = encoder.encodedBytes
        // 0A <len 2 bytes> 08 05 12 <len 2 bytes> 0A 07 content 12 AC 02 <300 v>
        let content = 2 + 7 + 3 + 300
        let log = 2 + 1 + 2 + content
        #expect(Array(bytes[0..<3]) == [0x0A, UInt8(log & 0x7F) | 0x80, UInt8(log >> 7)])
        #expect(bytes.count == 3 + log + 4)
        let small = makeGroup([(1, 0, [("content", "a")])])
        encoder.encode(group: small, meta: LogGroupMeta(topic: "", source: ""))
        // 0A 10 | 08 01 | 12 0C 0A 07 "content" 12 01 "a" | 1A 00 | 22 00
        #expect(encoder.encodedBytes == hexBytes("0a100801120c0a07636f6e74656e741201611a002200"))
    }

    @Test("__path__ is truncated to 511 bytes and comes before the group's own tags")
    func pathTag() {
        let source = EventSource(path: "/" + String(repeating: "p", count: 600), topic: "t",
                                 tags: [(key: "a", value: "1")])
        let meta = LogGroupMeta(group: source, source: "ip", extraTags: [(key: "__hostname__", value: "h")])
        #expect(meta.tags.map(\.key) == ["__path__", "a", "__hostname__"])
        #expect(meta.tags[0].value.utf8.count == 511)
        #expect(LogGroupMeta(group: EventSource(), source: "").tags.isEmpty)
    }
}
