// LocalHTTPServer.swift
//
// A tiny HTTP/1.1 server on 127.0.0.1 for health probes and metrics scrapes: one request per connection,
// answered by a handler closure, then `Connection: close`. Owns connection bookkeeping, limits and the
// response framing; does not own routes (the agent's handler) or sockets (TCPHandles.swift).
//
// A connection's life:
//
//   reading --complete request--> handler --> response written, write side shut down --> lingering
//   reading --garbage, too large--> 400 ---------------------------------------------------> lingering
//   lingering --peer's end of stream, an error, or the request timeout--> closed
//
// Lingering (reading and discarding until the peer closes) keeps the kernel from answering unread bytes
// with a reset that could destroy the response before the client read it.

/// One response. `Content-Length` and `Connection: close` are added by the server.
public struct LocalHTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra header lines, e.g. ("Allow", "POST").
    public var headers: [(name: String, value: String)]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String,
                headers: [(name: String, value: String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
        self.headers = headers
    }
}

public struct LocalHTTPServerLimits: Sendable {
    /// Request line and headers, in bytes.
    public var maxHeaderBytes = 8 << 10
    /// A Content-Length body, in bytes.
    public var maxBodyBytes = 4 << 10
    /// Connections open at once; more are answered 503 and closed (beyond twice this, closed unanswered).
    public var maxConnections = 16
    /// A connection open this long is closed, whatever it is doing.
    public var requestTimeout: Duration = .seconds(5)

    public init() {}
}

final class LocalHTTPServer {
    typealias Handler = (LocalHTTPRequest) -> LocalHTTPResponse

    private enum State {
        case reading(HTTPRequestParser)
        case lingering
    }

    private final class Connection {
        let tcp: TCPConnection
        let openedAt: UInt64
        var state: State

        init(tcp: TCPConnection, openedAt: UInt64, parser: HTTPRequestParser) {
            self.tcp = tcp
            self.openedAt = openedAt
            state = .reading(parser)
        }
    }

    private let loop: EventLoop
    private let limits: LocalHTTPServerLimits
    private let handler: Handler
    private let listener: TCPListener
    private let sweep: LoopTimer
    private var connections: [ObjectIdentifier: Connection] = [:]
    /// The port listened on (the chosen one when asked for port 0).
    let port: Int

    /// Listens on 127.0.0.1:`port` right away; `handler` runs on the loop thread for each request.
    init(loop: EventLoop, port: Int, limits: LocalHTTPServerLimits = LocalHTTPServerLimits(),
         handler: @escaping Handler) throws(LoopError) {
        self.loop = loop
        self.limits = limits
        self.handler = handler
        listener = try TCPListener(loop: loop)
        do {
            sweep = try LoopTimer(loop: loop)
            try listener.listen(port: port)
            self.port = try listener.boundPort()
        } catch {
            listener.close()
            throw error
        }
        listener.onConnection = { [unowned self] error in self.accept(error) }
        sweep.onFire = { [unowned self] in self.closeExpired() }
        let period = max(10, min(limits.requestTimeout.milliseconds / 4, 1000))
        sweep.start(afterMilliseconds: period, repeatMilliseconds: period)
    }

    /// Connections currently open.
    var connectionCount: Int { connections.count }

    /// Stops listening and closes every connection.
    func close() {
        listener.close()
        sweep.close()
        for connection in connections.values { connection.tcp.close() }
        connections.removeAll()
    }

    private func accept(_ error: LoopError?) {
        guard error == nil, let tcp = try? TCPConnection(loop: loop, readBufferBytes: 4096) else { return }
        do {
            try listener.accept(into: tcp)
        } catch {
            tcp.close()
            return
        }
        let parser = HTTPRequestParser(maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes)
        let connection = Connection(tcp: tcp, openedAt: loop.nowMilliseconds, parser: parser)
        connections[ObjectIdentifier(tcp)] = connection
        tcp.onRead = { [unowned self, unowned connection] result in self.read(result, on: connection) }
        if connections.count > 2 * limits.maxConnections {
            drop(connection)
            return
        }
        if connections.count > limits.maxConnections {
            respond(LocalHTTPResponse(status: 503, body: "too many connections\n"), on: connection, method: "GET")
            return
        }
        do {
            try tcp.startReading()
        } catch {
            drop(connection)
        }
    }

    private func read(_ result: TCPConnection.ReadResult, on connection: Connection) {
        switch result {
        case .end, .failed:
            drop(connection)
        case .data(let bytes):
            guard case .reading(var parser) = connection.state else { return }
            do throws(HTTPRequestError) {
                let request = try parser.feed(bytes)
                connection.state = .reading(parser)
                guard let request else { return }
                connection.state = .lingering
                respond(handler(request), on: connection, method: request.method)
            } catch {
                connection.state = .lingering
                respond(LocalHTTPResponse(status: 400, body: "bad request: \(error)\n"), on: connection, method: "GET")
            }
        }
    }

    /// Writes the response, shuts the write side and lingers until the peer closes (or the timeout).
    private func respond(_ response: LocalHTTPResponse, on connection: Connection, method: String) {
        connection.state = .lingering
        do {
            try connection.tcp.write(encode(response, includeBody: method != "HEAD"))
            try connection.tcp.shutdown()
            try connection.tcp.startReading()
        } catch {
            drop(connection)
        }
    }

    private func drop(_ connection: Connection) {
        connection.tcp.close()
        connections[ObjectIdentifier(connection.tcp)] = nil
    }

    private func closeExpired() {
        let now = loop.nowMilliseconds
        let timeout = limits.requestTimeout.milliseconds
        for connection in connections.values where now &- connection.openedAt >= timeout {
            drop(connection)
        }
    }

    private func encode(_ response: LocalHTTPResponse, includeBody: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
        head += "Content-Type: \(response.contentType)\r\n"
        head += "Content-Length: \(response.body.count)\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes.append(contentsOf: response.body) }
        return bytes
    }
}

private func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 500: return "Internal Server Error"
    case 503: return "Service Unavailable"
    default: return "Status"
    }
}
