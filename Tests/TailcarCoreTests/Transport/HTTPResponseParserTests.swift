// Tests of HTTPResponseParser: every response fed whole, byte by byte and in seeded random chunkings must
// parse the same; hostile inputs give the typed error that names the problem.
import Testing
@testable import TailcarCore

struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state ^ (state >> 29)
    }
}

/// Feeds `text` in pieces of the given sizes; returns the response, or throws the parse error.
func parse(_ bytes: [UInt8], pieces: [Int], limits: HTTPParserLimits = HTTPParserLimits(),
           eof: Bool = false) throws -> (HTTPResponse?, consumed: Int) {
    var parser = HTTPResponseParser(limits: limits)
    var offset = 0
    var pieceIndex = 0
    while offset < bytes.count {
        let size = min(pieces[pieceIndex % pieces.count], bytes.count - offset)
        pieceIndex += 1
        let progress = try bytes.withUnsafeBytes { all in
            try parser.feed(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + size)]))
        }
        if case .complete(let consumed) = progress { return (parser.takeResponse(), offset + consumed) }
        offset += size
    }
    if eof, case .complete = try parser.finish() { return (parser.takeResponse(), offset) }
    return (nil, offset)
}

func chunkings(for count: Int, seed: UInt64) -> [[Int]] {
    var random = SeededRandom(state: seed)
    var all: [[Int]] = [[max(count, 1)], [1], [2], [7]]
    for _ in 0..<20 { all.append((0..<8).map { _ in Int.random(in: 1...17, using: &random) }) }
    return all
}

@Suite("HTTPResponseParser")
struct HTTPResponseParserTests {
    static let samples: [(String, Int, String, Bool)] = [
        ("HTTP/1.1 200 OK\r\nx-log-requestid: 5F3A\r\nContent-Length: 0\r\n\r\n", 200, "", false),
        ("HTTP/1.1 401 Unauthorized\r\nContent-Length: 28\r\nConnection: close\r\n\r\n{\"errorCode\":\"Unauthorized\"}",
         401, "{\"errorCode\":\"Unauthorized\"}", true),
        ("HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n, world!!!\r\n0\r\nT: 1\r\n\r\n",
         500, "hello, world!!!", false),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nA: b\r\n\r\n", 204, "", false),
        ("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", 200, "abc", true),
        ("HTTP/1.1 200 OK\nContent-Length:2\n\nok", 200, "ok", false),
    ]

    @Test("samples parse the same whole, byte by byte and in 20 seeded random chunkings")
    func chunkingsAgree() throws {
        for (index, sample) in Self.samples.enumerated() {
            let bytes = Array(sample.0.utf8)
            for pieces in chunkings(for: bytes.count, seed: UInt64(index)) {
                let (response, consumed) = try parse(bytes, pieces: pieces)
                #expect(consumed == bytes.count)
                #expect(response?.status == sample.1)
                #expect(response.map { String(decoding: $0.body, as: UTF8.self) } == sample.2)
                #expect(response?.closesConnection == sample.3)
            }
        }
    }

    @Test("a body delimited by the close completes at EOF; bytes after a response are left unconsumed")
    func closeDelimitedAndPipelined() throws {
        let closing = Array("HTTP/1.1 502 Bad Gateway\r\n\r\n<html>oops</html>".utf8)
        let (response, _) = try parse(closing, pieces: [3], eof: true)
        #expect(response?.status == 502 && response?.closesConnection == true)
        #expect(response.map { String(decoding: $0.body, as: UTF8.self) } == "<html>oops</html>")
        let two = Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n".utf8)
        let (_, consumed) = try parse(two, pieces: [two.count])
        #expect(consumed == 39)
        #expect(HTTPResponse(status: 200, reason: "", headers: [("X-Log-RequestId", "r")], body: [],
                             closesConnection: false).header("x-log-requestid") == "r")
    }

    @Test("hostile inputs fail with an error that says what was wrong")
    func hostile() {
        let small = HTTPParserLimits(maxLineBytes: 64, maxHeaderCount: 3, maxHeaderBytes: 150, maxBodyBytes: 10)
        let cases: [(String, HTTPParseError)] = [
            ("garbage\r\n", .malformedStatusLine("garbage")),
            ("HTTP/2.0 200 OK\r\n", .unsupportedVersion("HTTP/2.0")),
            ("HTTP/1.1 2x0 OK\r\n", .malformedStatusLine("HTTP/1.1 2x0 OK")),
            ("HTTP/1.1 200 OK\r\n" + String(repeating: "a", count: 100), .lineTooLong(limit: 64)),
            ("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", .tooManyHeaders(limit: 3)),
            ("HTTP/1.1 200 OK\r\n" + String(repeating: "Aaaaaaaaa: 1234567890123456789012345678901234567890\r\n", count: 3),
             .headersTooLarge(limit: 150)),
            ("HTTP/1.1 200 OK\r\nno colon\r\n", .malformedHeader("no colon")),
            ("HTTP/1.1 200 OK\r\n folded: x\r\n", .malformedHeader(" folded: x")),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .invalidContentLength("-1")),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .conflictingContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge(limit: 10)),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunkSize("zz")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", .missingChunkTerminator),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", .bodyTooLarge(limit: 10)),
            ("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "b", count: 11), .bodyTooLarge(limit: 10)),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            for pieces in chunkings(for: text.utf8.count, seed: UInt64(100 + index)) {
                #expect(throws: expected, "case \(index)") { _ = try parse(Array(text.utf8), pieces: pieces, limits: small) }
            }
        }
    }

    @Test("an early close names the stage it interrupted")
    func earlyClose() {
        let cases: [(String, String)] = [
            ("", "status line"), ("HTTP/1.1 200 OK\r\nA: b", "headers"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "body"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "chunked body"),
        ]
        for (text, stage) in cases {
            #expect(throws: HTTPParseError.prematureEOF(during: stage)) {
                _ = try parse(Array(text.utf8), pieces: [5], eof: true)
            }
        }
    }

    @Test("seeded random bytes never crash the parser and end in an error or a response")
    func fuzz() {
        var random = SeededRandom(state: 42)
        let alphabet = Array("HTTP/1.1 200 OK\r\n:;0123456789abcdefContent-Length Transfer-Encoding chunked\r\n".utf8)
        for _ in 0..<500 {
            let count = Int.random(in: 0...200, using: &random)
            let bytes = (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }
            let prefix = Bool.random(using: &random) ? Array("HTTP/1.1 200 OK\r\n".utf8) : []
            _ = try? parse(prefix + bytes, pieces: [Int.random(in: 1...9, using: &random)], eof: true)
        }
    }
}
