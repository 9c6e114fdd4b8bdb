// LocalHTTPServerTests.swift
//
// LocalHTTPServer on a real libuv loop and real loopback sockets, driven step by step from the test.

import Glibc
import Testing
@testable import TailcarCore

@Suite("Local HTTP server")
struct LocalHTTPServerTests {
    /// A loop and a server answering /healthz and an echo route; closed by `finish()`.
    final class Fixture {
        let loop: EventLoop
        let server: LocalHTTPServer
        var requests: [LocalHTTPRequest] = []

        init(limits: LocalHTTPServerLimits = LocalHTTPServerLimits()) throws {
            loop = try EventLoop()
            var seen: (LocalHTTPRequest) -> Void = { _ in }
            server = try LocalHTTPServer(loop: loop, port: 0, limits: limits) { request in
                seen(request)
                switch request.path {
                case "/healthz": return LocalHTTPResponse(status: 200, body: "ok\n")
                case "/echo": return LocalHTTPResponse(status: 200, body: String(decoding: request.body, as: UTF8.self))
                default: return LocalHTTPResponse(status: 404, body: "not found\n")
                }
            }
            seen = { [unowned self] request in self.requests.append(request) }
        }

        func client() -> LoopbackClient { LoopbackClient(port: server.port) }

        func finish() {
            server.close()
            loop.close()
        }
    }

    @Test("listens on 127.0.0.1 and answers a route with 200 and Connection: close, then ends the stream")
    func healthz() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        #expect(fixture.server.port > 0)
        let client = fixture.client()
        client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(drive(fixture.loop, [client]) { client.ended })
        #expect(client.status == 200)
        #expect(client.text.contains("\r\nContent-Length: 3\r\n"))
        #expect(client.text.contains("\r\nConnection: close\r\n"))
        #expect(client.body == "ok\n")
        #expect(fixture.requests.map(\.path) == ["/healthz"])
    }

    @Test("an unknown path is 404 and a POST body reaches the handler")
    func notFoundAndBody() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        let missing = fixture.client()
        missing.send("GET /nope HTTP/1.1\r\n\r\n")
        let echo = fixture.client()
        echo.send("POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(drive(fixture.loop, [missing, echo]) { missing.ended && echo.ended })
        #expect(missing.status == 404)
        #expect(echo.status == 200)
        #expect(echo.body == "hello world")
    }

    @Test("HEAD gets the headers without the body")
    func head() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        let client = fixture.client()
        client.send("HEAD /healthz HTTP/1.1\r\n\r\n")
        #expect(drive(fixture.loop, [client]) { client.ended })
        #expect(client.status == 200)
        #expect(client.text.hasSuffix("\r\n\r\n"))
    }

    @Test("garbage is answered 400 and closed without reaching the handler")
    func garbage() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        let client = fixture.client()
        var random = SeededGenerator(seed: 42)
        client.send(bytes: (0..<300).map { _ in UInt8(truncatingIfNeeded: random.next()) } + [13, 10, 13, 10])
        #expect(drive(fixture.loop, [client]) { client.ended })
        #expect(client.status == 400)
        #expect(fixture.requests.isEmpty)
    }

    @Test("oversized headers are answered 400 and the connection is closed")
    func oversized() throws {
        var limits = LocalHTTPServerLimits()
        limits.maxHeaderBytes = 1024
        let fixture = try Fixture(limits: limits)
        defer { fixture.finish() }
        let client = fixture.client()
        client.send("GET /healthz HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 64 << 10) + "\r\n\r\n")
        #expect(drive(fixture.loop, [client]) { client.ended })
        #expect(client.status == 400)
        #expect(client.body.contains("exceed 1024 bytes"))
        #expect(fixture.requests.isEmpty)
    }

    @Test("past the connection limit new connections get 503; the held ones are still served")
    func connectionLimit() throws {
        var limits = LocalHTTPServerLimits()
        limits.maxConnections = 4
        let fixture = try Fixture(limits: limits)
        defer { fixture.finish() }
        let held = (0..<4).map { _ in fixture.client() }
        #expect(drive(fixture.loop, held) { fixture.server.connectionCount == 4 })
        let extra = (0..<3).map { _ in fixture.client() }
        #expect(drive(fixture.loop, held + extra) { extra.allSatisfy(\.ended) })
        #expect(extra.map(\.status) == [503, 503, 503])
        for client in held { client.send("GET /healthz HTTP/1.1\r\n\r\n") }
        #expect(drive(fixture.loop, held) { held.allSatisfy(\.ended) })
        #expect(held.map(\.status) == [200, 200, 200, 200])
    }

    @Test("a hundred requests one after another are all served and leave no connection behind")
    func manySequential() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        for _ in 0..<100 {
            let client = fixture.client()
            client.send("GET /healthz HTTP/1.1\r\n\r\n")
            #expect(drive(fixture.loop, [client]) { client.ended })
            #expect(client.status == 200)
        }
        // Each client is closed when it goes out of scope; the server then sees the end and lets go.
        #expect(drive(fixture.loop, []) { fixture.server.connectionCount == 0 })
        #expect(fixture.requests.count == 100)
    }

    @Test("a connection that sends nothing is closed after the request timeout")
    func idleTimeout() throws {
        var limits = LocalHTTPServerLimits()
        limits.requestTimeout = .milliseconds(50)
        let fixture = try Fixture(limits: limits)
        defer { fixture.finish() }
        let client = fixture.client()
        #expect(drive(fixture.loop, [client]) { client.ended })
        #expect(client.received.isEmpty)
        #expect(fixture.server.connectionCount == 0)
    }

    @Test("binding a port that is taken fails with a LoopError naming the address")
    func portTaken() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        do {
            let second = try LocalHTTPServer(loop: fixture.loop, port: fixture.server.port) { _ in
                LocalHTTPResponse(status: 200, body: "")
            }
            second.close()
            Issue.record("a second server bound the same port")
        } catch {
            #expect(error.operation.contains("127.0.0.1:\(fixture.server.port)"))
            #expect(error.code == -EADDRINUSE)
        }
    }
}
