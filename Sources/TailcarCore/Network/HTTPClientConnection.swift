// HTTPClientConnection.swift
//
// One outbound keep-alive HTTP/1.1 connection on the loop: dial, optional TLS, one request at a time, the
// response parsed incrementally, then idle until the next request or until it closes. Owns the socket, the
// phase timers and the parser; does not own pooling, queueing or what a response means (HTTPClient).
//
//   dialling --connected--> [handshaking --done-->] idle --send--> exchanging --response--> idle ...
//   any phase --error, timeout, peer close, Connection: close--> closed (the owner is told once)

import CLibUV

/// Why an exchange produced no response.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    case resolve(host: String, String)
    case connect(address: String, String)
    case tls(String)
    case write(String)
    case read(String)
    /// The phase (`connect`, `response`) took longer than its limit.
    case timeout(phase: String, milliseconds: UInt64)
    /// The peer's bytes are not a usable HTTP response.
    case malformedResponse(HTTPParseError)
    /// The peer closed the connection before answering.
    case closedByPeer
    /// The client was shut down with this exchange outstanding.
    case cancelled

    public var description: String {
        switch self {
        case .resolve(let host, let why): return "cannot resolve \(host): \(why)"
        case .connect(let address, let why): return "cannot connect to \(address): \(why)"
        case .tls(let why): return "TLS: \(why)"
        case .write(let why): return "write failed: \(why)"
        case .read(let why): return "read failed: \(why)"
        case .timeout(let phase, let ms): return "no \(phase) within \(ms) ms"
        case .malformedResponse(let error): return "malformed response: \(error)"
        case .closedByPeer: return "the server closed the connection before answering"
        case .cancelled: return "cancelled at shutdown"
        }
    }
}

public struct HTTPClientTimeouts: Sendable {
    /// Resolving, connecting and the TLS handshake together.
    public var connectMilliseconds: UInt64 = 10_000
    /// From the first request byte written to the last response byte read.
    public var responseMilliseconds: UInt64 = 30_000
    /// An idle keep-alive connection is closed after this long.
    public var idleMilliseconds: UInt64 = 50_000

    public init() {}
}

final class HTTPClientConnection {
    typealias Completion = (Result<HTTPResponse, HTTPClientError>) -> Void

    enum Phase {
        case dialling
        case handshaking
        case idle
        case exchanging(Completion)
        case closed
    }

    let endpoint: HTTPEndpoint
    private let loop: EventLoop
    private let timeouts: HTTPClientTimeouts
    private let tcp: TCPConnection
    private let timer: LoopTimer
    private let tls: TLSSession?
    private var parser: HTTPResponseParser
    private(set) var phase: Phase = .dialling
    private var outgoing: [UInt8] = []
    /// Told when the connection can take a request (after dialling and after each response).
    var onReady: (HTTPClientConnection) -> Void = { _ in }
    /// Told once, when the connection closes for any reason.
    var onClosed: (HTTPClientConnection) -> Void = { _ in }

    var isIdle: Bool { if case .idle = phase { return true } else { return false } }

    init(endpoint: HTTPEndpoint, loop: EventLoop, timeouts: HTTPClientTimeouts, tlsContext: TLSContext?,
         serverName: String, limits: HTTPParserLimits) throws(HTTPClientError) {
        self.endpoint = endpoint
        self.loop = loop
        self.timeouts = timeouts
        parser = HTTPResponseParser(limits: limits)
        do {
            tcp = try TCPConnection(loop: loop, readBufferBytes: 64 << 10)
            timer = try LoopTimer(loop: loop)
        } catch {
            throw .connect(address: endpoint.description, error.description)
        }
        if endpoint.scheme == .https {
            guard let tlsContext else { throw .tls("no TLS context for \(endpoint)") }
            do { tls = try TLSSession(context: tlsContext, serverName: serverName) } catch {
                throw .tls(error.description)
            }
        } else {
            tls = nil
        }
    }

    /// Resolves and dials; `onReady` follows on success, `onClosed` on failure.
    func open() {
        arm(timeouts.connectMilliseconds, phase: "connect")
        AddressResolver.resolve(endpoint.host, port: endpoint.port, on: loop) { [weak self] result in
            guard let self, case .dialling = self.phase else { return }
            switch result {
            case .failure(let error): self.fail(.resolve(host: self.endpoint.host, error.description))
            case .success(let addresses): self.dial(addresses[0])
            }
        }
    }

    /// Sends one complete request (`bytes` already framed). Only when idle.
    func send(_ bytes: OutgoingBytes, completion: @escaping Completion) {
        precondition(isIdle, "a request on a busy connection")
        phase = .exchanging(completion)
        parser.reset()
        arm(timeouts.responseMilliseconds, phase: "response")
        write(bytes)
    }

    /// Closes now; an outstanding exchange completes with `.cancelled`.
    func close() { fail(.cancelled) }

    // MARK: Phases

    private func dial(_ address: SocketAddress) {
        tcp.onRead = { [weak self] result in self?.handle(result) }
        do {
            try tcp.connect(to: address) { [weak self] error in
                guard let self else { return }
                if let error {
                    self.fail(.connect(address: address.description, error.description))
                    return
                }
                self.connected()
            }
        } catch {
            fail(.connect(address: address.description, error.description))
        }
    }

    private func connected() {
        uv_tcp_nodelay(tcp.pointer, 1)
        do { try tcp.startReading() } catch {
            fail(.read(error.description))
            return
        }
        guard let tls else { becomeIdle(); return }
        phase = .handshaking
        do {
            try tls.startHandshake()
            flushTLS()
        } catch {
            fail(.tls(error.description))
        }
    }

    private func becomeIdle() {
        phase = .idle
        arm(timeouts.idleMilliseconds, phase: "idle")
        onReady(self)
    }

    private func handle(_ result: TCPConnection.ReadResult) {
        switch result {
        case .data(let bytes):
            guard let tls else { receivePlain(bytes); return }
            do {
                try tls.receive(bytes)
                let open = try tls.drainPlaintext { [unowned self] plain in self.receivePlain(plain) }
                if case .handshaking = phase, tls.isHandshakeComplete { becomeIdle() }
                flushTLS()
                if !open { peerClosed() }
            } catch {
                fail(.tls(error.description))
            }
        case .end: peerClosed()
        case .failed(let error): fail(.read(error.description))
        }
    }

    private func receivePlain(_ bytes: UnsafeRawBufferPointer) {
        guard case .exchanging(let completion) = phase else {
            if case .idle = phase { fail(.closedByPeer) }  // bytes nobody asked for: do not reuse
            return
        }
        do {
            guard case .complete = try parser.feed(bytes), let response = parser.takeResponse() else { return }
            finish(response, completion)
        } catch {
            fail(.malformedResponse(error))
        }
    }

    private func peerClosed() {
        guard case .exchanging(let completion) = phase else { fail(.closedByPeer); return }
        do {
            if case .complete = try parser.finish(), let response = parser.takeResponse() {
                finish(response, completion)
                fail(.closedByPeer)
                return
            }
            fail(.closedByPeer)
        } catch HTTPParseError.prematureEOF(let during) where during == "statusLine" {
            fail(.closedByPeer)
        } catch {
            fail(.malformedResponse(error))
        }
    }

    private func finish(_ response: HTTPResponse, _ completion: Completion) {
        if response.closesConnection {
            phase = .closed
            shutDown()
            completion(.success(response))
            onClosed(self)
            return
        }
        becomeIdle()
        completion(.success(response))
    }

    private func fail(_ error: HTTPClientError) {
        let previous = phase
        guard !isClosedPhase(previous) else { return }
        phase = .closed
        shutDown()
        if case .exchanging(let completion) = previous { completion(.failure(error)) }
        else if case .dialling = previous { pendingFailure = error }
        else if case .handshaking = previous { pendingFailure = error }
        onClosed(self)
    }

    /// Why a connection that never became ready closed (the pool fails a waiting request with it).
    private(set) var pendingFailure: HTTPClientError?

    private func isClosedPhase(_ phase: Phase) -> Bool { if case .closed = phase { return true } else { return false } }

    private func shutDown() {
        timer.stop()
        timer.close()
        tcp.close()
    }

    // MARK: Bytes out

    private func write(_ bytes: OutgoingBytes) {
        guard let tls else {
            do { try tcp.write(retaining: bytes) } catch { fail(.write(error.description)) }
            return
        }
        do { try tls.send(bytes.request) } catch {
            fail(.tls(error.description))
            return
        }
        flushTLS()
    }

    private func flushTLS() {
        guard let tls else { return }
        outgoing.removeAll(keepingCapacity: true)
        tls.takeOutgoing(into: &outgoing)
        guard !outgoing.isEmpty else { return }
        do { try tcp.write(outgoing) } catch { fail(.write(error.description)) }
    }

    private func arm(_ milliseconds: UInt64, phase name: String) {
        timer.onFire = { [weak self] in
            guard let self else { return }
            if case .idle = self.phase { self.fail(.cancelled); return }
            self.fail(.timeout(phase: name, milliseconds: milliseconds))
        }
        timer.stop()
        timer.start(afterMilliseconds: milliseconds)
    }
}
