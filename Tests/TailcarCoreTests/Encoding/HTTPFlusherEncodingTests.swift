// Tests of what flusher_otlp and flusher_clickhouse put on the wire: gzip round trips, protobuf lengths past
// one byte, the OTLP request's structure read back field by field, ClickHouse JSONEachRow escaping, and
// what each format makes of answers. The receivers in Tests/harness and the real ClickHouse check the same
// bytes end to end (Tests/integration/test_otlp.py, test_clickhouse.py).
import Testing
@testable import TailcarCore

private func response(_ status: Int, _ body: [UInt8] = [], headers: [(name: String, value: String)] = []) -> HTTPResponse {
    HTTPResponse(status: status, reason: "R", headers: headers, body: body, closesConnection: false)
}

@Suite("HTTP flusher encoding")
struct HTTPFlusherEncodingTests {
    @Test("gzip round-trips bodies of many sizes with one reused stream, and writes gzip members")
    func gzipRoundTrips() throws {
        let gzip = try GzipCompressor(level: 1)
        for (index, size) in [0, 1, 4096, 600_000, 17].enumerated() {
            let body = sampleBody(bytes: size, seed: UInt64(index))
            let packed = try body.withUnsafeBytes { try gzip.compress($0) }
            #expect(Array(packed.prefix(2)) == [0x1F, 0x8B])
            #expect(try GzipDecompressor.decompress(packed) == body, "size \(size)")
            if size >= 4096 { #expect(packed.count < size / 2) }
        }
        #expect(throws: GzipError.self) { try GzipDecompressor.decompress([0x1F, 0x8B, 0x08, 0, 0]) }
        var corrupt = try Array(repeating: UInt8(7), count: 1000).withUnsafeBytes { try gzip.compress($0) }
        corrupt[12] ^= 0xFF
        #expect(throws: GzipError.self) { try GzipDecompressor.decompress(corrupt) }
    }

    @Test("a sealed body is compressed once into its block; the head goes right before it, a retry rewrites it")
    func sealedBody() throws {
        let gzip = try GzipCompressor(level: 1)
        let scratch = CompressionScratch()
        let raw = sampleBody(bytes: 100_000, seed: 3)
        let sealed = raw.withUnsafeBytes { scratch.seal($0, with: gzip) }
        #expect(sealed.failure == nil && sealed.body.isCompressed && sealed.body.rawSize == raw.count)
        #expect(try GzipDecompressor.decompress(Array(sealed.body.bytes)) == raw)
        let head = Array("POST /v1/logs HTTP/1.1\r\n\r\n".utf8)
        let request = head.withUnsafeBytes { sealed.body.request(head: $0) }
        #expect(Array(request.request) == head + Array(sealed.body.bytes))
        let shorter = Array("POST / HTTP/1.1\r\n\r\n".utf8)
        let again = shorter.withUnsafeBytes { sealed.body.request(head: $0) }
        #expect(again === request && Array(again.request) == shorter + Array(sealed.body.bytes))
        let huge = [UInt8](repeating: 0x41, count: HTTPBatchBody.headroom + 1)
        let whole = huge.withUnsafeBytes { sealed.body.request(head: $0) }
        withExtendedLifetime(whole) { #expect(Array(whole.request) == huge + Array(sealed.body.bytes)) }
        let plain = raw.withUnsafeBytes { scratch.seal($0, with: GzipCompressor?.none) }
        #expect(!plain.body.isCompressed && Array(plain.body.bytes) == raw)
    }

    @Test("a nested message's length takes its shortest form, whatever width was reserved for it")
    func protobufLongLengths() {
        let writer = ProtobufWriter()
        let outer = writer.begin(1)
        let text = String(repeating: "x", count: 300)
        writer.stringField(2, text)
        writer.end(outer)
        // 0A <len 303 = AF 02> 12 <300 = AC 02> x*300
        #expect(Array(writer.bytes.prefix(6)) == [0x0A, 0xAF, 0x02, 0x12, 0xAC, 0x02])
        #expect(writer.bytes.count == 306)
        let fields = ProtobufReader.fields(writer.bytes)
        guard case .bytes(let inner) = fields.first?.value else { Issue.record("no message"); return }
        #expect(inner.count == 303)
        // A reserved length of another width than the message took: patched to the shortest form either way.
        for (expected, size) in [(300, 100), (1 << 14, 5), (0, 20_000), (200, 200)] {
            let sized = ProtobufWriter(capacity: 16)
            let mark = sized.begin(1, expectedLength: expected)
            sized.stringField(2, String(repeating: "y", count: size))
            sized.end(mark)
            let inner = size + 1 + ProtobufWriter.varintSize(UInt64(size))
            #expect(sized.count == 1 + ProtobufWriter.varintSize(UInt64(inner)) + inner, "\(expected) \(size)")
            guard case .bytes(let message) = ProtobufReader.fields(sized.bytes).first?.value else {
                Issue.record("no message for \(expected) \(size)")
                continue
            }
            #expect(message.count == inner && message.suffix(size).allSatisfy { $0 == UInt8(ascii: "y") })
        }
    }

    @Test("an OTLP request: one ResourceLogs per source with its attributes, body and attributes per record")
    func otlpStructure() throws {
        let group = makeGroup([(1_700_000_000, 5, [("content", "GET /a"), ("level", "WARN")]),
                               (1_700_000_001, 0, [("level", "INFO"), ("msg", "bad \u{FFFD}")])])
        group.source = EventSource(path: "/var/log/a.log", topic: "t", tags: [("_pod_name_", "web-1"), ("team", "x")])
        var encoder = OTLPLogsEncoder(bodyKey: "content")
        _ = encoder.encode([RecordSlice(group: group, records: 0..<2)], observed: [42])
        let request = ProtobufReader.fields(encoder.encodedBytes)
        #expect(request.count == 1)
        guard case .bytes(let resourceLogs) = request[0].value else { Issue.record("no ResourceLogs"); return }
        let parts = ProtobufReader.fields(Array(resourceLogs))
        #expect(parts.map(\.number) == [1, 2])
        guard case .bytes(let resource) = parts[0].value, case .bytes(let scopeLogs) = parts[1].value else { return }
        let attributes = ProtobufReader.fields(Array(resource)).compactMap { field -> String? in
            guard case .bytes(let pair) = field.value, case .bytes(let key)? = ProtobufReader.fields(Array(pair)).first?.value
            else { return nil }
            return String(decoding: key, as: UTF8.self)
        }
        #expect(attributes == ["log.file.path", "__topic__", "k8s.pod.name", "team"])
        let scope = ProtobufReader.fields(Array(scopeLogs))
        #expect(scope.map(\.number) == [1, 2, 2])
        guard case .bytes(let first) = scope[1].value, case .bytes(let second) = scope[2].value else { return }
        // time (1, fixed64), observed (11, fixed64), body (5), one attribute (6): level.
        #expect(ProtobufReader.fields(Array(first)).map(\.number) == [1, 11, 5, 6])
        // No content field: no body, both fields are attributes.
        #expect(ProtobufReader.fields(Array(second)).map(\.number) == [1, 11, 6, 6])
        let time = Array(first.prefix(9))
        #expect(time[0] == 0x09)
        let nanos = time[1...].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect(nanos == 1_700_000_000 * 1_000_000_000 + 5)
    }

    @Test("an attribute key twice in a record goes once, with its last value")
    func otlpUniqueKeys() {
        let group = makeGroup([(1, 0, [("a", "1"), ("content", "x"), ("a", "2"), ("b", "3")])])
        var encoder = OTLPLogsEncoder(bodyKey: "content")
        _ = encoder.encode([RecordSlice(group: group, records: 0..<1)], observed: [1])
        var found: [String] = []
        func walk(_ bytes: [UInt8], depth: Int) {
            for field in ProtobufReader.fields(bytes) {
                guard case .bytes(let inner) = field.value else { continue }
                if depth == 3 && field.number == 6 {
                    let pair = ProtobufReader.fields(Array(inner))
                    if case .bytes(let key) = pair[0].value, case .bytes(let value) = pair[1].value,
                       case .bytes(let text) = ProtobufReader.fields(Array(value))[0].value {
                        found.append(String(decoding: key, as: UTF8.self) + "=" + String(decoding: text, as: UTF8.self))
                    }
                } else if depth < 3 && (field.number == 1 && depth == 0 || field.number == 2) {
                    walk(Array(inner), depth: depth + 1)
                }
            }
        }
        walk(encoder.encodedBytes, depth: 0)
        #expect(found == ["a=2", "b=3"])
        // Table keys (a parser's), the same name as an arena key, and a body under an arena key.
        let keys = KeyTable()
        let level = keys.intern("level")
        let mixed = EventGroup(keys: keys)
        let raw = Array("levelW1W2contentbodyE".utf8)
        raw.withUnsafeBytes { mixed.beginRecord(raw: $0, seconds: 1, nanoseconds: 0) }
        let base = mixed.openRecord!.rawStart
        mixed.addField(key: .table(level), value: ByteRange(start: base + 5, count: 2))
        mixed.addField(key: .arena(ByteRange(start: base + 9, count: 7)), value: ByteRange(start: base + 16, count: 4))
        mixed.addField(key: .table(level), value: ByteRange(start: base + 7, count: 2))
        mixed.addField(key: .arena(ByteRange(start: base, count: 5)), value: ByteRange(start: base + 20, count: 1))
        mixed.commitRecord()
        found = []
        var mixedEncoder = OTLPLogsEncoder(bodyKey: "content")
        _ = mixedEncoder.encode([RecordSlice(group: mixed, records: 0..<1)], observed: [1])
        walk(mixedEncoder.encodedBytes, depth: 0)
        #expect(found == ["level=E"])
        #expect(mixedEncoder.encodedBytes.firstRange(of: Array("body".utf8)) != nil)
    }

    @Test("OTLP bytes that are not UTF-8 go as bytes_value")
    func otlpBytesValue() {
        let group = EventGroup(keys: KeyTable())
        let raw: [UInt8] = [0x61, 0xFF, 0x62]
        raw.withUnsafeBytes { group.beginRecord(raw: $0, seconds: 1, nanoseconds: 0) }
        group.addField(key: .table(group.keys.content), rawRange: 0..<3)
        group.commitRecord()
        var encoder = OTLPLogsEncoder(bodyKey: "content")
        _ = encoder.encode([RecordSlice(group: group, records: 0..<1)], observed: [1])
        // The body AnyValue: 2A 05 3A 03 61 FF 62 (field 5 holding field 7, bytes_value).
        let bytes = encoder.encodedBytes
        #expect(bytes.suffix(7) == [0x2A, 0x05, 0x3A, 0x03, 0x61, 0xFF, 0x62][...])
    }

    @Test("OTLP answers: partial success, Retry-After, operator errors, splits and drops")
    func otlpVerdicts() throws {
        let format = try OTLPFormat(settings: OTLPFlusherSettings(endpoint: "http://127.0.0.1:4318"), name: "otlp",
                                    diagnostics: Diagnostics(quiet: true))
        // ExportLogsServiceResponse { partial_success { rejected_log_records: 3, error_message: "no" } }
        let partial: [UInt8] = [0x0A, 0x06, 0x08, 0x03, 0x12, 0x02, 0x6E, 0x6F]
        #expect(format.verdict(response(200, partial)) == .delivered(rejected: 3, reason: "no"))
        #expect(format.verdict(response(200, [0xFF, 0xFF])) == .delivered(rejected: 0, reason: ""))
        let status: [UInt8] = [0x08, 0x08, 0x12, 0x04] + Array("slow".utf8)
        #expect(format.verdict(response(429, status, headers: [("Retry-After", "7")]))
                == .retry("HTTP 429 R: slow", afterMilliseconds: 7000))
        #expect(format.verdict(response(503)) == .retry("HTTP 503 R", afterMilliseconds: nil))
        #expect(format.verdict(response(401)) == .needsOperator("HTTP 401 R"))
        #expect(format.verdict(response(413)) == .tooLarge("HTTP 413 R"))
        #expect(format.verdict(response(400, Array("bad".utf8))) == .rejected("HTTP 400 R: bad"))
    }

    @Test("answers of random bytes never trap the OTLP answer readers")
    func otlpAnswersOfGarbage() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0..<400 {
            var body: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                body.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            _ = OTLPResponse.partialSuccess(body)
            _ = OTLPResponse.statusMessage(body)
            _ = ClickHouseFormat.exceptionCode(body)
        }
        #expect(RetryAfter.milliseconds(" 2 ") == 2000)
    }

    @Test("Retry-After: seconds, the three HTTP-date forms against the clock, clamped to 5 minutes, junk ignored")
    func retryAfter() {
        // 2015-10-21 07:28:00 UTC
        let date: UInt64 = 1_445_412_480
        let now = (date - 90) * 1_000_000_000 + 250_000_000
        #expect(RetryAfter.milliseconds("Wed, 21 Oct 2015 07:28:00 GMT", nowNanoseconds: now) == 89_750)
        #expect(RetryAfter.milliseconds("Wednesday, 21-Oct-15 07:28:00 GMT", nowNanoseconds: now) == 89_750)
        #expect(RetryAfter.milliseconds("Wed Oct 21 07:28:00 2015", nowNanoseconds: now) == 89_750)
        #expect(RetryAfter.milliseconds("Wed Oct  1 07:28:00 2015", nowNanoseconds: (date - 25 * 86_400) * 1_000_000_000)
                == 300_000)
        #expect(RetryAfter.milliseconds("Wed, 21 Oct 2015 07:28:00 GMT", nowNanoseconds: (date + 5) * 1_000_000_000) == 0)
        #expect(RetryAfter.milliseconds("Thu, 22 Oct 2015 07:28:00 GMT", nowNanoseconds: now) == 300_000)
        #expect(RetryAfter.milliseconds("0") == 0)
        #expect(RetryAfter.milliseconds("86400") == 300_000)
        #expect(RetryAfter.milliseconds("99999999999999999999999") == 300_000)
        for junk in [nil, "", "soon", "-1", "1.5", "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT",
                     "Wed, 21 Oct 2015 25:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 PST", "Wed, 29 Feb 2015 07:28:00 GMT"] {
            #expect(RetryAfter.milliseconds(junk, nowNanoseconds: now) == nil, "\(junk ?? "nil")")
        }
        #expect(RetryAfter.httpDateSeconds("Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: 0) == 784_111_777)
        #expect(RetryAfter.httpDateSeconds("Sunday, 06-Nov-94 08:49:37 GMT", nowSeconds: Int64(date)) == 784_111_777)
    }

    @Test("ClickHouse rows: escaping, bytes as they are, named columns and the fields Nested column")
    func clickhouseRows() {
        let group = makeGroup([(1_700_000_000, 7, [("content", "a\"b\\c\n\t\u{01}é"), ("level", "W")])])
        group.source = EventSource(path: "/p", topic: "", tags: [("k", "v")])
        let encoder = ClickHouseRowEncoder(columns: ["content"])
        _ = encoder.encode([RecordSlice(group: group, records: 0..<1)])
        let text = String(decoding: encoder.bytes, as: UTF8.self)
        #expect(text == #"{"time":1700000000,"time_ns":7,"path":"/p","topic":"","tags.key":["k"],"tags.value":["v"],"#
                + #""content":"a\"b\\c\n\t\u0001é","fields.key":["level"],"fields.value":["W"]}"# + "\n")
        let edges = makeGroup([(0, 999_999_999, [("content", "\"")]), (UInt32.max, 0, [("content", "plain \\ end")])])
        _ = encoder.encode([RecordSlice(group: edges, records: 0..<2)])
        let lines = String(decoding: encoder.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix(#"{"time":0,"time_ns":999999999,"#) && lines[0].contains(#""content":"\"""#))
        #expect(lines[1].hasPrefix(#"{"time":4294967295,"time_ns":0,"#) && lines[1].contains(#""content":"plain \\ end""#))
    }

    @Test("ClickHouse strings escape the same byte at every position of the eight-byte scan as byte by byte")
    func clickhouseEscapingEveryPosition() {
        func reference(_ text: String) -> String {
            var out = "\""
            for byte in text.utf8 {
                switch byte {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x09: out += "\\t"
                case 0..<0x20: out += "\\u00" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                default: out += String(UnicodeScalar(byte))  // ASCII only: the cases below write no other
                }
            }
            return out + "\""
        }
        let encoder = ClickHouseRowEncoder(columns: ["content"])
        for special in ["\u{0}", "\u{1}", "\t", "\n", "\u{1F}", "\"", "\\", " ", "\u{7F}", "!", "]"] {
            for length in 0...19 {
                for position in 0...length {
                    var scalars = Array(repeating: "a", count: length)
                    scalars.insert(special, at: position)
                    let text = scalars.joined()
                    let group = makeGroup([(1, 2, [("content", text)])])
                    encoder.encode([RecordSlice(group: group, records: 0..<1)])
                    let row = String(decoding: encoder.bytes, as: UTF8.self)
                    #expect(row.contains(",\"content\":" + reference(text) + ",\"fields.key\""), "\(text.debugDescription)")
                }
            }
        }
        let wide = makeGroup([(1, 2, [("content", "é\"é" + String(repeating: "é", count: 9) + "\u{1}")])])
        encoder.encode([RecordSlice(group: wide, records: 0..<1)])
        #expect(String(decoding: encoder.bytes, as: UTF8.self)
                    .contains(#""content":"é\"é"# + String(repeating: "é", count: 9) + #"\u0001""#))
    }

    @Test("ClickHouse answers, the insert's URL, the CREATE statements and Basic auth")
    func clickhouseFormat() throws {
        var settings = ClickHouseFlusherSettings(endpoint: "http://127.0.0.1:8123", database: "logs", table: "app",
                                                 user: "u", password: "p", auth: .basic, compression: .gzip)
        let format = try ClickHouseFormat(settings: settings, name: "ch", diagnostics: Diagnostics(quiet: true))
        let gzipBody = [UInt8]([0x1F, 0x8B, 0]).withUnsafeBytes { HTTPBatchBody(copying: $0, rawSize: 9, isCompressed: true) }
        let head = format.request(body: gzipBody)
        #expect(head.target == "/?query=INSERT%20INTO%20%60logs%60.%60app%60%20FORMAT%20JSONEachRow")
        #expect(head.headers.contains { $0 == ("Authorization", "Basic dTpw") })
        #expect(head.headers.contains { $0 == ("Content-Encoding", "gzip") })
        #expect(format.verdict(response(404, Array("Code: 60, e.displayText() = no table".utf8)))
                == .needsOperator("HTTP 404 R: Code: 60, e.displayText() = no table"))
        #expect(format.verdict(response(500, Array("Code: 117, x".utf8))) == .needsOperator("HTTP 500 R: Code: 117, x"))
        #expect(format.verdict(response(500, Array("Code: 89, x".utf8))) == .needsOperator("HTTP 500 R: Code: 89, x"))
        #expect(format.verdict(response(500, Array("Code: 241, x".utf8))) == .retry("HTTP 500 R: Code: 241, x", afterMilliseconds: nil))
        #expect(format.verdict(response(400)) == .tooLarge("HTTP 400 R"))
        #expect(format.setupRequests.map(\.what) == ["CREATE DATABASE IF NOT EXISTS `logs`", "CREATE TABLE IF NOT EXISTS `logs`.`app`"])
        settings.createTable = false
        let noCreate = try ClickHouseFormat(settings: settings, name: "ch", diagnostics: Diagnostics(quiet: true))
        #expect(noCreate.setupRequests.isEmpty)
        #expect(base64(Array("ab".utf8)) == "YWI=" && base64(Array("abc".utf8)) == "YWJj" && base64([]) == "")
    }
}
