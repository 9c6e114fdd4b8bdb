// Tests of WatchStreamDecoder: a chunked watch response split at every byte boundary gives the same head
// and event lines as in one piece; chunks that end mid-line; error answers with Content-Length; a stream
// cut short; a malformed chunk size.
import Testing
@testable import TailcarCore

@Suite("Watch stream decoding")
struct WatchStreamDecoderTests {
    static let events = [#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}}"#,
                         #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#]

    /// The API server's framing: one chunk per event, here the second split over two chunks.
    static var wire: [UInt8] {
        let first = Array((events[0] + "\n").utf8)
        let second = Array((events[1] + "\n").utf8)
        var bytes = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for piece in [first, Array(second[..<10]), Array(second[10...])] {
            bytes += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
        }
        return bytes + Array("0\r\n\r\n".utf8)
    }

    func decode(_ bytes: [UInt8], split: Int) throws -> (WatchStreamDecoder, [String]) {
        var decoder = WatchStreamDecoder()
        var lines: [String] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + split)
            try bytes[start..<end].withUnsafeBytes { raw in
                try decoder.feed(raw) { lines.append(String(decoding: $0, as: UTF8.self)) }
            }
            start = end
        }
        return (decoder, lines)
    }

    @Test("events come out whole however the bytes are split", arguments: [1, 2, 3, 7, 64, 4096])
    func splits(size: Int) throws {
        let (decoder, lines) = try decode(Self.wire, split: size)
        #expect(decoder.head == WatchStreamDecoder.Head(status: 200, reason: "OK"))
        #expect(lines == Self.events)
        #expect(decoder.isFinished)
    }

    @Test("an error answer with Content-Length gives its body and finishes")
    func errorAnswer() throws {
        let body = #"{"kind":"Status","code":410,"reason":"Expired"}"#
        let bytes = Array("HTTP/1.1 410 Gone\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        let (decoder, lines) = try decode(bytes, split: 5)
        #expect(decoder.head?.status == 410 && decoder.isFinished)
        #expect(lines == [body])
    }

    @Test("a stream cut in the middle is an error on close, after the lines that arrived")
    func cutShort() throws {
        let cut = Array(Self.wire.prefix(Self.wire.count - 40))
        var (decoder, lines) = try decode(cut, split: 100)
        #expect(lines == [Self.events[0]])
        #expect(throws: WatchStreamError.self) { try decoder.close { _ in } }
    }

    @Test("a chunk size that is not hex is refused")
    func badChunk() {
        let bytes = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8)
        #expect(throws: WatchStreamError.self) { try decode(bytes, split: 100) }
    }

    @Test("a Content-Length that is not a byte count is refused (found by the watch fuzz target)")
    func badLength() {
        for length in ["-5", "+3", "1e3", ""] {
            let bytes = Array("HTTP/1.1 410 Gone\r\nContent-Length: \(length)\r\n\r\n{}".utf8)
            #expect(throws: WatchStreamError.self) { try decode(bytes, split: 3) }
        }
    }

    @Test("a status line that is not HTTP is refused")
    func garbage() {
        #expect(throws: WatchStreamError.self) { try decode(Array("\u{0}\u{ff}NOT HTTP\r\n\r\n".utf8), split: 3) }
    }
}
