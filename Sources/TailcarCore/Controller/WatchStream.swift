// WatchStream.swift
//
// One Kubernetes watch request on the controller's loop: dial, optional TLS, send the GET, then hand each
// JSON event line to `onLine` as it arrives, until the server ends the response, the connection drops or
// nothing (not even a bookmark) arrives for `idleMilliseconds`. Owns that connection and its timer; does not
// own what an event means or when to watch again (ResourceWatcher).
//
//   dialling --connected--> [handshaking --done-->] streaming --last chunk / close / error--> ended (told once)

import CLibUV

public enum WatchEnd: Equatable, Sendable, CustomStringConvertible {
    /// The server ended the response (its timeoutSeconds passed): watch again from the last version.
    case completed
    /// The server answered with an error status instead of a stream (410 means re-list).
    case refused(status: Int, body: String)
    /// Connect, TLS, read, timeout or a malformed stream.
    case failed(String)

    public var description: String {
        switch self {
        case .completed: return "ended by the server"
        case let .refused(status, body): return "HTTP \(status): \(body)"
        case .failed(let reason): return reason
        }
    }
}

final class WatchStream {
    private enum Phase { case dialling, handshaking, streaming, ended }

    private let endpoint: HTTPEndpoint
    private let request: [UInt8]
    private let idleMilliseconds: UInt64
    private let tcp: TCPConnection
    private let timer: LoopTimer
    private let tls: TLSSession?
    private var decoder = WatchStreamDecoder()
    private var phase = Phase.dialling
    private var errorBody: [UInt8] = []
    private var outgoing: [UInt8] = []
    private let loop: EventLoop
    var onLine: ([UInt8]) -> Void = { _ in }
    var onEnd: (WatchEnd) -> Void = { _ in }

    init(loop: EventLoop, endpoint: HTTPEndpoint, serverName: String, tlsContext: TLSContext?, request: [UInt8],
         idleMilliseconds: UInt64) throws(WatchStreamError) {
        self.loop = loop
        self.endpoint = endpoint
        self.request = request
        self.idleMilliseconds = idleMilliseconds
        do {
            tcp = try TCPConnection(loop: loop, readBufferBytes: 64 << 10)
            timer = try LoopTimer(loop: loop)
        } catch {
            throw WatchStreamError(problem: error.description)
        }
        if let tlsContext {
            do { tls = try TLSSession(context: tlsContext, serverName: serverName) } catch {
                throw WatchStreamError(problem: error.description)
            }
        } else {
            tls = nil
        }
    }

    func open() {
        arm()
        AddressResolver.resolve(endpoint.host, port: endpoint.port, on: loop) { [weak self] result in
            guard let self, case .dialling = self.phase else { return }
            switch result {
            case .failure(let error): self.end(.failed("cannot resolve \(self.endpoint.host): \(error)"))
            case .success(let addresses): self.dial(addresses[0])
            }
        }
    }

    /// Closes without telling `onEnd` (the controller is stopping or starting over).
    func cancel() {
        guard phase != .ended else { return }
        phase = .ended
        shutDown()
    }

    private func dial(_ address: SocketAddress) {
        tcp.onRead = { [weak self] result in self?.handle(result) }
        do {
            try tcp.connect(to: address) { [weak self] error in
                guard let self, self.phase == .dialling else { return }
                if let error { self.end(.failed("cannot connect to \(address): \(error)")); return }
                self.connected()
            }
        } catch {
            end(.failed("cannot connect to \(address): \(error)"))
        }
    }

    private func connected() {
        uv_tcp_nodelay(tcp.pointer, 1)
        do { try tcp.startReading() } catch { end(.failed(error.description)); return }
        guard let tls else { startStreaming(); return }
        phase = .handshaking
        do {
            try tls.startHandshake()
            flushTLS()
        } catch {
            end(.failed(error.description))
        }
    }

    private func startStreaming() {
        phase = .streaming
        arm()
        if let tls {
            let failure: TLSError? = request.withUnsafeBytes { raw in
                do throws(TLSError) { try tls.send(raw) } catch { return error }
                return nil
            }
            if let failure { end(.failed(failure.description)); return }
            flushTLS()
        } else {
            do { try tcp.write(request) } catch { end(.failed("write failed: \(error)")) }
        }
    }

    private func handle(_ result: TCPConnection.ReadResult) {
        guard phase != .ended else { return }
        switch result {
        case .data(let bytes):
            arm()
            guard let tls else { receive(bytes); return }
            do {
                try tls.receive(bytes)
                let open = try tls.drainPlaintext { [unowned self] plain in self.receive(plain) }
                if phase == .handshaking, tls.isHandshakeComplete { startStreaming() }
                flushTLS()
                if !open { peerClosed() }
            } catch {
                end(.failed(error.description))
            }
        case .end: peerClosed()
        case .failed(let error): end(.failed("read failed: \(error)"))
        }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer) {
        guard phase == .streaming else { return }
        var lines: [[UInt8]] = []
        do {
            try decoder.feed(bytes) { lines.append($0) }
        } catch {
            end(.failed(error.description))
            return
        }
        for line in lines { deliver(line) }
        if decoder.isFinished { finish() }
    }

    private func deliver(_ line: [UInt8]) {
        guard phase == .streaming else { return }
        if let head = decoder.head, head.status != 200 {
            if errorBody.count < 4096 { errorBody += line.prefix(4096 - errorBody.count) }
            return
        }
        onLine(line)
    }

    private func peerClosed() {
        guard phase == .streaming else { end(.failed("the server closed the connection before answering")); return }
        var lines: [[UInt8]] = []
        do { try decoder.close { lines.append($0) } } catch {
            end(.failed("connection dropped: \(error.problem)"))
            return
        }
        for line in lines { deliver(line) }
        finish()
    }

    private func finish() {
        guard let head = decoder.head else { end(.failed("no response")); return }
        if head.status == 200 { end(.completed) } else {
            end(.refused(status: head.status, body: printable(errorBody.prefix(400))))
        }
    }

    private func end(_ reason: WatchEnd) {
        guard phase != .ended else { return }
        phase = .ended
        shutDown()
        onEnd(reason)
    }

    private func shutDown() {
        timer.stop()
        timer.close()
        tcp.close()
    }

    private func flushTLS() {
        guard let tls else { return }
        outgoing.removeAll(keepingCapacity: true)
        tls.takeOutgoing(into: &outgoing)
        guard !outgoing.isEmpty else { return }
        do { try tcp.write(outgoing) } catch { end(.failed("write failed: \(error)")) }
    }

    private func arm() {
        timer.onFire = { [weak self] in
            guard let self else { return }
            self.end(.failed("nothing from the watch within \(self.idleMilliseconds) ms"))
        }
        timer.stop()
        timer.start(afterMilliseconds: idleMilliseconds)
    }
}
