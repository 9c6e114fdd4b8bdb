// The JSON writer must be lossless for any bytes: decoding its strings with the surrogateescape rule
// gives back the input exactly.
import Testing
@testable import TailcarCore

/// Decodes a JSON string literal (with quotes) to bytes: \udcXX lone surrogates become byte XX, other
/// escapes and code points become their UTF-8.
func decodeSurrogateEscaped(_ literal: [UInt8]) -> [UInt8]? {
    guard literal.count >= 2, literal.first == 0x22, literal.last == 0x22 else { return nil }
    var out: [UInt8] = []
    var index = 1
    let end = literal.count - 1
    func hex4(_ at: Int) -> UInt32? {
        guard at + 4 <= end else { return nil }
        return UInt32(String(decoding: literal[at..<at + 4], as: UTF8.self), radix: 16)
    }
    while index < end {
        let byte = literal[index]
        if byte != 0x5C { out.append(byte); index += 1; continue }
        let kind = literal[index + 1]
        index += 2
        switch kind {
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x2F: out.append(0x2F)
        case 0x6E: out.append(0x0A)
        case 0x72: out.append(0x0D)
        case 0x74: out.append(0x09)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0C)
        case 0x75:
            guard let code = hex4(index) else { return nil }
            index += 4
            if (0xDC80...0xDCFF).contains(code) {
                out.append(UInt8(code - 0xDC00))
            } else if code < 0x80 {
                out.append(UInt8(code))
            } else {
                return nil
            }
        default: return nil
        }
    }
    return out
}

@Suite("RecordJSONWriter")
struct RecordJSONWriterTests {
    private func literal(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { RecordJSONWriter.appendString($0, to: &out) }
        return out
    }

    @Test("valid UTF-8 passes through; quotes, backslashes and control bytes are escaped")
    func golden() {
        #expect(String(decoding: literal(Array("héllo \"x\" \\ 日本\n\t\u{0}".utf8)), as: UTF8.self)
                == #""héllo \"x\" \\ 日本\n\t\u0000""#)
    }

    @Test("invalid UTF-8 bytes become \\udcXX, one per byte")
    func invalidBytes() {
        #expect(String(decoding: literal([0x61, 0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0xC0, 0xAF]), as: UTF8.self)
                == #""a\udcff\udcc3(\udced\udca0\udc80\udcc0\udcaf""#)
    }

    @Test("random byte strings round-trip exactly through the surrogateescape rule")
    func roundTrip() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let count = random.below(64)
            let bytes = (0..<count).map { _ -> UInt8 in
                random.below(4) == 0 ? UInt8(0x80 + random.below(128)) : UInt8(random.below(128))
            }
            let encoded = literal(bytes)
            #expect(decodeSurrogateEscaped(encoded) == bytes, "\(bytes)")
            #expect(!encoded.dropFirst().dropLast().contains { $0 < 0x20 }, "raw control byte in output")
        }
    }

    @Test("printable runs of every length around one byte to escape or check: the word-at-a-time scan hands over exactly")
    func plainRunsAroundOneSpecialByte() {
        let specials: [[UInt8]] = [[0x00], [0x1F], [0x22], [0x5C], [0x7F], [0x80], [0xC3, 0xA9], [0xE6, 0x97, 0xA5], [0xFF]]
        var random = SeededGenerator(seed: 11)
        for before in 0..<20 {
            for after in [0, 1, 7, 8, 9, 17] {
                let special = specials[random.below(specials.count)]
                let plain = { (n: Int) in (0..<n).map { _ in UInt8(0x23 + random.below(0x39)) } }
                let bytes = plain(before) + special + plain(after)
                #expect(decodeSurrogateEscaped(literal(bytes)) == bytes, "\(bytes)")
                #expect(literal(plain(before + after)).count == before + after + 2)
            }
        }
    }

    @Test("a group becomes one object per record with time, path, fields and tags")
    func groupObjects() {
        let group = EventGroup(keys: KeyTable())
        group.source = EventSource(path: "/l/a.log", topic: "", tags: [("_pod_name_", "web-1")])
        Array("GET /".utf8).withUnsafeBytes { raw in
            group.beginRecord(raw: raw, seconds: 1_732_668_000, nanoseconds: 0)
            group.addField(key: .table(group.keys.content), rawRange: 0..<raw.count)
        }
        group.commitRecord()
        Array("x".utf8).withUnsafeBytes { raw in
            group.beginRecord(raw: raw, seconds: 2, nanoseconds: 5)
            group.addField(key: .table(group.keys.content), rawRange: 0..<1)
        }
        group.commitRecord()
        for (text, nanoseconds) in [("y", UInt32(5)), ("z", 0)] {
            Array(text.utf8).withUnsafeBytes { raw in
                group.beginRecord(raw: raw, seconds: 2, nanoseconds: nanoseconds)
                group.addField(key: .table(group.keys.content), rawRange: 0..<1)
            }
            group.commitRecord()
        }
        var out: [UInt8] = []
        RecordJSONWriter.append(group, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == """
            {"__time__":1732668000,"__path__":"/l/a.log","content":"GET /","__tag__:_pod_name_":"web-1"}
            {"__time__":2,"__time_ns__":5,"__path__":"/l/a.log","content":"x","__tag__:_pod_name_":"web-1"}
            {"__time__":2,"__time_ns__":5,"__path__":"/l/a.log","content":"y","__tag__:_pod_name_":"web-1"}
            {"__time__":2,"__path__":"/l/a.log","content":"z","__tag__:_pod_name_":"web-1"}

            """)
    }
}
