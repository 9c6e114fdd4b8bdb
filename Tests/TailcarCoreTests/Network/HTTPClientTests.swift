// HTTPClientTests.swift
//
// The outbound HTTP client on a real libuv loop: against the in-process health server, a closed port, a
// name that must be resolved, and the SLS receiver's garbage and slow faults. The loop is stepped by the
// test until the completion ran or a deadline passed.

import Glibc
import Testing
@testable import TailcarCore

@Suite("HTTP client", .serialized)
struct HTTPClientTests {
    /// Runs `loop` until `done()` or 20 s.
    func run(_ loop: EventLoop, until done: () -> Bool) {
        let deadline = loop.nowMilliseconds + 20_000
        while !done() && loop.nowMilliseconds < deadline {
            loop.runOnce()
            usleep(1000)
        }
    }

    func request(_ path: String, host: String = "127.0.0.1") -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: 0\r\n\r\n".utf8)
    }

    @Test("a request to the local server gets its response, by IP and by the name localhost")
    func answered() throws {
        let loop = try EventLoop()
        let server = try LocalHTTPServer(loop: loop, port: 0) { _ in LocalHTTPResponse(status: 200, body: "ok\n") }
        let client = HTTPClient(loop: loop)
        var results: [Result<HTTPResponse, HTTPClientError>] = []
        for host in ["127.0.0.1", "localhost"] {
            let endpoint = HTTPEndpoint(scheme: .http, host: host, port: server.port)
            client.send(request("/healthz"), to: endpoint, serverName: host) { results.append($0) }
        }
        run(loop) { results.count == 2 }
        for result in results {
            guard case .success(let response) = result else {
                Issue.record("expected a response, got \(result)")
                continue
            }
            #expect(response.status == 200 && response.body == Array("ok\n".utf8))
        }
        client.shutDown()
        server.close()
        loop.close()
    }

    @Test("a closed port is a connect error naming the address")
    func refused() throws {
        let loop = try EventLoop()
        let listener = try TCPListener(loop: loop)
        try listener.listen(port: 0)
        let port = try listener.boundPort()
        listener.close()
        let client = HTTPClient(loop: loop)
        var outcome: Result<HTTPResponse, HTTPClientError>?
        client.send(request("/"), to: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: port),
                    serverName: "127.0.0.1") { outcome = $0 }
        run(loop) { outcome != nil }
        guard case .failure(.connect(let address, let why)) = outcome else {
            Issue.record("expected a connect error, got \(String(describing: outcome))")
            return
        }
        #expect(address == "127.0.0.1:\(port)" && why.contains("ECONNREFUSED"))
        client.shutDown()
        loop.close()
    }

    @Test("a name that does not resolve is a resolve error naming the host")
    func unresolvable() throws {
        let loop = try EventLoop()
        let client = HTTPClient(loop: loop)
        var outcome: Result<HTTPResponse, HTTPClientError>?
        client.send(request("/"), to: HTTPEndpoint(scheme: .http, host: "no-such-host.invalid", port: 80),
                    serverName: "no-such-host.invalid") { outcome = $0 }
        run(loop) { outcome != nil }
        guard case .failure(.resolve(let host, _)) = outcome else {
            Issue.record("expected a resolve error, got \(String(describing: outcome))")
            return
        }
        #expect(host == "no-such-host.invalid")
        client.shutDown()
        loop.close()
    }

    @Test("garbage answers are malformed responses; a slow answer past the limit is a response timeout",
          .enabled(if: Harness.available))
    func hostileServer() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        let loop = try EventLoop()
        var timeouts = HTTPClientTimeouts()
        timeouts.responseMilliseconds = 300
        let client = HTTPClient(loop: loop, timeouts: timeouts)
        let endpoint = HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: Int(receiver.port))
        let body = Array(repeating: UInt8(ascii: "x"), count: 2000)
        let post = Array("POST /logstores/a/shards/lb HTTP/1.1\r\nHost: p.x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        var outcomes: [Result<HTTPResponse, HTTPClientError>] = []
        try receiver.control(fault: "garbage")
        client.send(post, to: endpoint, serverName: "127.0.0.1") { outcomes.append($0) }
        run(loop) { outcomes.count == 1 }
        try receiver.control(fault: "slow")
        client.send(post, to: endpoint, serverName: "127.0.0.1") { outcomes.append($0) }
        run(loop) { outcomes.count == 2 }
        guard case .failure(.malformedResponse) = outcomes[0] else {
            Issue.record("garbage: \(outcomes[0])")
            return
        }
        guard case .failure(.timeout(phase: "response", milliseconds: 300)) = outcomes[1] else {
            Issue.record("slow: \(outcomes[1])")
            return
        }
        try receiver.control(fault: "none")
        client.shutDown()
        loop.close()
    }

    @Test("shutDown completes waiting requests with cancelled")
    func cancelled() throws {
        let loop = try EventLoop()
        let client = HTTPClient(loop: loop, maxConnections: 1)
        var outcomes: [Result<HTTPResponse, HTTPClientError>] = []
        let endpoint = HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: 9)
        for _ in 0..<3 { client.send(request("/"), to: endpoint, serverName: "127.0.0.1") { outcomes.append($0) } }
        client.shutDown()
        run(loop) { outcomes.count == 3 }
        #expect(outcomes.allSatisfy { if case .failure(.cancelled) = $0 { true } else { false } })
        loop.close()
    }
}
