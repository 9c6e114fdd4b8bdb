// HTTPClient.swift
//
// The outbound HTTP client on the agent's loop: a keep-alive pool per endpoint with a bound on open
// connections, and a FIFO of requests waiting for one. Owns pooling, dispatch and the TLS context; does
// not own the wire phases of a connection (HTTPClientConnection) or what responses mean (the flushers).
//
// A request waits in the queue until an idle connection takes it; a new connection is dialled while fewer
// than `maxConnections` are open. A dial that fails fails the oldest waiting request with its error, so
// callers see an unreachable endpoint as failures (and back off) instead of an ever-growing queue.

final class HTTPClient {
    typealias Completion = HTTPClientConnection.Completion

    private struct Waiting {
        var bytes: OutgoingBytes
        var completion: Completion
    }

    private final class Pool {
        var connections: [HTTPClientConnection] = []
        var waiting = FIFOQueue<Waiting>()
        var pendingCount: Int { waiting.count }
    }

    private let loop: EventLoop
    private let maxConnections: Int
    private let timeouts: HTTPClientTimeouts
    private let limits: HTTPParserLimits
    private let caFile: String?
    private var tlsContext: TLSContext?
    private var pools: [HTTPEndpoint: Pool] = [:]
    private var isShutDown = false

    init(loop: EventLoop, maxConnections: Int = 4, timeouts: HTTPClientTimeouts = HTTPClientTimeouts(),
         limits: HTTPParserLimits = HTTPParserLimits(), caFile: String? = nil) {
        self.loop = loop
        self.maxConnections = max(1, maxConnections)
        self.timeouts = timeouts
        self.limits = limits
        self.caFile = caFile
    }

    /// Requests sent and not yet answered, plus those waiting for a connection.
    func outstanding(to endpoint: HTTPEndpoint) -> Int {
        guard let pool = pools[endpoint] else { return 0 }
        return pool.pendingCount + pool.connections.count { !$0.isIdle }
    }

    /// Sends `bytes` (a complete request) to `endpoint`, presenting `serverName` for TLS (SNI and the
    /// certificate check). `completion` runs on the loop thread, never before this returns.
    func send(_ bytes: [UInt8], to endpoint: HTTPEndpoint, serverName: String, completion: @escaping Completion) {
        send(OutgoingBytes(copying: bytes), to: endpoint, serverName: serverName, completion: completion)
    }

    /// Sends the request in `bytes` without copying it: the block stays alive until the socket is done with it.
    func send(_ bytes: OutgoingBytes, to endpoint: HTTPEndpoint, serverName: String,
              completion: @escaping Completion) {
        guard !isShutDown else {
            completion(.failure(.cancelled))
            return
        }
        let pool = pools[endpoint] ?? Pool()
        pools[endpoint] = pool
        pool.waiting.pushBack(Waiting(bytes: bytes, completion: completion))
        dispatch(pool, endpoint: endpoint, serverName: serverName)
    }

    /// Closes every connection; outstanding requests complete with `.cancelled`.
    func shutDown() {
        isShutDown = true
        for pool in pools.values {
            let waiting = pool.waiting.removeAll()
            for connection in pool.connections { connection.close() }
            for request in waiting { request.completion(.failure(.cancelled)) }
        }
        pools = [:]
    }

    private func dispatch(_ pool: Pool, endpoint: HTTPEndpoint, serverName: String) {
        while pool.pendingCount > 0 {
            if let idle = pool.connections.first(where: \.isIdle), let request = pool.waiting.popFront() {
                idle.send(request.bytes, completion: request.completion)
                continue
            }
            let opening = pool.connections.count { if case .dialling = $0.phase { true } else if case .handshaking = $0.phase { true } else { false } }
            guard pool.connections.count < maxConnections, opening < pool.pendingCount else { return }
            open(pool, endpoint: endpoint, serverName: serverName)
        }
    }

    private func open(_ pool: Pool, endpoint: HTTPEndpoint, serverName: String) {
        let connection: HTTPClientConnection
        do {
            connection = try HTTPClientConnection(endpoint: endpoint, loop: loop, timeouts: timeouts,
                                                  tlsContext: try context(for: endpoint), serverName: serverName,
                                                  limits: limits)
        } catch {
            failOldest(pool, error)
            return
        }
        pool.connections.append(connection)
        connection.onReady = { [weak self, unowned pool] _ in
            self?.dispatch(pool, endpoint: endpoint, serverName: serverName)
        }
        connection.onClosed = { [weak self, unowned pool] closed in
            pool.connections.removeAll { $0 === closed }
            guard let self, !self.isShutDown else { return }
            if let failure = closed.pendingFailure { self.failOldest(pool, failure) }
            self.dispatch(pool, endpoint: endpoint, serverName: serverName)
        }
        connection.open()
    }

    private func context(for endpoint: HTTPEndpoint) throws(HTTPClientError) -> TLSContext? {
        guard endpoint.scheme == .https else { return nil }
        if let tlsContext { return tlsContext }
        do {
            let created = try TLSContext(caFile: caFile)
            tlsContext = created
            return created
        } catch {
            throw .tls(error.description)
        }
    }

    private func failOldest(_ pool: Pool, _ error: HTTPClientError) {
        pool.waiting.popFront()?.completion(.failure(error))
    }
}
