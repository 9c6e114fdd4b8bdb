// HTTPRequestParserTests.swift
//
// The request reader on its own: pieces of any size, line-end tolerance, bodies, and every rejection.

import Testing
@testable import TailcarCore

@Suite("HTTP request parser")
struct HTTPRequestParserTests {
    private func parse(_ text: String, pieceSize: Int = .max, maxHeader: Int = 1024,
                       maxBody: Int = 64) throws(HTTPRequestError) -> LocalHTTPRequest? {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeader, maxBodyBytes: maxBody)
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + min(pieceSize, bytes.count - start))
            let slice = Array(bytes[start..<end])
            let outcome: Result<LocalHTTPRequest?, HTTPRequestError> = slice.withUnsafeBytes { raw in
                do throws(HTTPRequestError) { return .success(try parser.feed(raw)) } catch { return .failure(error) }
            }
            if let request = try outcome.get() { return request }
            start = end
        }
        return nil
    }

    @Test("a GET split into pieces of every size parses the same")
    func pieces() throws {
        let text = "GET /metrics?name=x HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent:  probe \r\n\r\n"
        for size in 1...text.utf8.count {
            let request = try #require(try parse(text, pieceSize: size))
            #expect(request.method == "GET")
            #expect(request.path == "/metrics")
            #expect(request.query == "name=x")
            #expect(request.header("host") == "127.0.0.1")
            #expect(request.header("user-agent") == "probe")
            #expect(request.body.isEmpty)
        }
    }

    @Test("bare line feeds end lines too")
    func bareLineFeeds() throws {
        let request = try #require(try parse("GET /healthz HTTP/1.0\nHost: a\n\n"))
        #expect(request.path == "/healthz")
        #expect(request.header("host") == "a")
    }

    @Test("a Content-Length body is collected across pieces, and nothing past it")
    func body() throws {
        let text = "POST /quitquitquit HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloEXTRA"
        for size in [1, 3, 7, 1000] {
            let request = try #require(try parse(text, pieceSize: size))
            #expect(request.body == Array("hello".utf8))
        }
    }

    @Test("an incomplete request is not returned")
    func incomplete() throws {
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\n") == nil)
        #expect(try parse("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab") == nil)
    }

    @Test("garbage is rejected with the reason")
    func garbage() {
        #expect(throws: HTTPRequestError.malformedRequestLine) { try parse("hello there\r\n\r\n") }
        #expect(throws: HTTPRequestError.malformedRequestLine) { try parse("GET metrics HTTP/1.1\r\n\r\n") }
        #expect(throws: HTTPRequestError.malformedRequestLine) { try parse("GET  / HTTP/1.1\r\n\r\n") }
        #expect(throws: HTTPRequestError.unsupportedVersion) { try parse("GET / HTTP/2.0\r\n\r\n") }
        #expect(throws: HTTPRequestError.malformedHeader) { try parse("GET / HTTP/1.1\r\nNo colon\r\n\r\n") }
        #expect(throws: HTTPRequestError.malformedHeader) { try parse("GET / HTTP/1.1\r\n folded: x\r\n\r\n") }
        #expect(throws: HTTPRequestError.malformedHeader) { try parse("GET / HTTP/1.1\r\nA: b\u{1}c\r\n\r\n") }
    }

    @Test("bad or conflicting Content-Length and any Transfer-Encoding are rejected")
    func lengths() {
        #expect(throws: HTTPRequestError.invalidContentLength) {
            try parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
        }
        #expect(throws: HTTPRequestError.invalidContentLength) {
            try parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
        }
        #expect(throws: HTTPRequestError.transferEncodingNotSupported) {
            try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        }
    }

    @Test("headers or a body past the limits are rejected, even before the head ends")
    func limits() {
        let long = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000)
        #expect(throws: HTTPRequestError.headerTooLarge(limit: 1024)) { try parse(long, pieceSize: 100) }
        #expect(throws: HTTPRequestError.headerTooLarge(limit: 1024)) { try parse(long + "\r\n\r\n") }
        #expect(throws: HTTPRequestError.bodyTooLarge(limit: 64)) {
            try parse("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n")
        }
    }
}
