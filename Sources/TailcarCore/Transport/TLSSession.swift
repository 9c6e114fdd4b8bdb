// TLSSession.swift
//
// A TLS 1.2+ client over OpenSSL memory BIOs, for the libuv HTTP client to pump over a TCP stream.
// Owns the SSL_CTX and SSL objects, the choice of trust store, SNI and hostname verification, and the
// plaintext written before the handshake finishes. Does not own the socket, timeouts, retries or HTTP.
// The cryptography is OpenSSL's, never hand-rolled.
//
//   socket ──read──▶ receive ──▶ [networkIn BIO] ──▶ SSL ──▶ drainPlaintext(deliver)
//   socket ◀─write── takeOutgoing ◀── [networkOut BIO] ◀── SSL ◀── startHandshake / send / shutdown
//
// OpenSSL may queue outgoing bytes on any call (handshake flights, alerts, TLS 1.3 key updates), so the
// pump calls `takeOutgoing` after every call into the session and writes whatever it got.

import CCrypto
import CTailcarShim
import Glibc

/// A TLS failure: what Tailcar was doing and OpenSSL's reason, with the certificate verification result
/// when there is one, e.g. `TLS handshake: certificate verify failed: hostname mismatch`.
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// "create context", "load CA file", "create session", "handshake", "read", "write", ...
    public var operation: String
    public var detail: String

    public var description: String { "TLS \(operation): \(detail)" }

    /// Empties this thread's OpenSSL error queue into one line: distinct reasons, oldest first.
    static func drainErrorQueue() -> String? {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let text = reason(code)
            if !reasons.contains(text) { reasons.append(text) }
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    private static func reason(_ code: UInt) -> String {
        if let text = ERR_reason_error_string(code) { return String(cString: text) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// One SSL_CTX for client sessions: TLS 1.2 or later, peer verification on, renegotiation off.
/// Bound to the thread that uses it, like the sessions made from it.
public final class TLSContext {
    /// Debian's ca-certificates bundle, preferred when nothing else is named.
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"

    let context: OpaquePointer

    /// caFile nil: $SSL_CERT_FILE if set, else /etc/ssl/certs/ca-certificates.crt if it exists, else
    /// SSL_CTX_set_default_verify_paths. The error names the file when it cannot be loaded.
    public init(caFile: String? = nil) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError(operation: "create context", detail: TLSError.drainErrorQueue() ?? "SSL_CTX_new failed")
        }
        self.context = context
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        _ = SSL_CTX_set_options(context, ccrypto_op_no_renegotiation())
        guard ccrypto_ctx_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw TLSError(operation: "create context",
                           detail: TLSError.drainErrorQueue() ?? "cannot require TLS 1.2 or later")
        }
        try loadTrust(caFile: caFile)
    }

    deinit { SSL_CTX_free(context) }

    /// The CA file to load, or nil for OpenSSL's compiled-in default locations.
    static func trustFile(caFile: String?) -> String? {
        if let caFile { return caFile }
        if let named = getenv("SSL_CERT_FILE"), named.pointee != 0 { return String(cString: named) }
        return access(systemBundle, R_OK) == 0 ? systemBundle : nil
    }

    private func loadTrust(caFile: String?) throws(TLSError) {
        guard let path = TLSContext.trustFile(caFile: caFile) else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError(operation: "load default CA paths",
                               detail: TLSError.drainErrorQueue() ?? "SSL_CTX_set_default_verify_paths failed")
            }
            return
        }
        guard access(path, R_OK) == 0 else {
            let reason = String(cString: strerror(ctailcar_errno()))
            throw TLSError(operation: "load CA file", detail: "\(path): \(reason)")
        }
        guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
            throw TLSError(operation: "load CA file",
                           detail: "\(path): \(TLSError.drainErrorQueue() ?? "no usable certificate")")
        }
    }
}

/// One TLS client connection's state. Bound to the loop thread (not Sendable); `deliver` callbacks must
/// not call back into `drainPlaintext` (they share one scratch buffer).
public final class TLSSession {
    private enum Phase {
        /// Plaintext from `send` waits in `queued`; `closeRequested` records a `shutdown` to do afterwards.
        case handshaking(closeRequested: Bool)
        case open
        /// Our close_notify is queued; the peer may still send data.
        case closing
        /// The peer's close_notify arrived; nothing more will be read.
        case closedByPeer
        case failed(TLSError)
    }

    /// Largest TLS record payload: one SSL_read never returns more.
    private static let scratchSize = 16_384

    private let context: TLSContext
    private let ssl: OpaquePointer
    private let networkIn: OpaquePointer
    private let networkOut: OpaquePointer
    private let scratch: UnsafeMutableRawBufferPointer
    private var queued: [UInt8] = []
    private var phase = Phase.handshaking(closeRequested: false)

    /// SNI and hostname verification (SSL_set1_host) for serverName; an IP literal is verified against
    /// the certificate's IP addresses instead and sends no SNI. Client mode.
    public init(context: TLSContext, serverName: String) throws(TLSError) {
        ERR_clear_error()
        let ssl = SSL_new(context.context)
        let networkIn = BIO_new(BIO_s_mem())
        let networkOut = BIO_new(BIO_s_mem())
        guard let ssl, let networkIn, let networkOut else {
            let detail = TLSError.drainErrorQueue() ?? "out of memory"
            if let ssl { SSL_free(ssl) }
            if let networkIn { BIO_free(networkIn) }
            if let networkOut { BIO_free(networkOut) }
            throw TLSError(operation: "create session", detail: detail)
        }
        _ = ccrypto_bio_set_mem_eof_return(networkIn, -1)
        _ = ccrypto_bio_set_mem_eof_return(networkOut, -1)
        SSL_set_bio(ssl, networkIn, networkOut)
        SSL_set_connect_state(ssl)
        self.context = context
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut
        self.scratch = .allocate(byteCount: TLSSession.scratchSize, alignment: 16)
        try expectPeer(named: serverName)
    }

    deinit {
        SSL_free(ssl)  // frees both BIOs
        scratch.deallocate()
    }

    public var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Starts (or continues) the handshake; produces outgoing bytes to take with takeOutgoing.
    public func startHandshake() throws(TLSError) {
        try advanceHandshake()
    }

    /// Bytes read from the socket. Only buffers them; `drainPlaintext` processes them.
    public func receive(_ ciphertext: UnsafeRawBufferPointer) throws(TLSError) {
        if case .failed(let error) = phase { throw error }
        guard let base = ciphertext.baseAddress else { return }
        var offset = 0
        while offset < ciphertext.count {
            var written = 0
            ERR_clear_error()
            guard BIO_write_ex(networkIn, base + offset, ciphertext.count - offset, &written) == 1 else {
                throw fail(TLSError(operation: "buffer received bytes",
                                    detail: TLSError.drainErrorQueue() ?? "BIO_write failed"))
            }
            offset += written
        }
    }

    /// Advances the handshake and decrypts whatever is available, calling deliver with plaintext chunks
    /// (valid only during the call). Returns false once the peer sent close_notify.
    @discardableResult
    public func drainPlaintext(_ deliver: (UnsafeRawBufferPointer) -> Void) throws(TLSError) -> Bool {
        try advanceHandshake()
        switch phase {
        case .handshaking: return true
        case .closedByPeer: return false
        case .failed(let error): throw error
        case .open, .closing: break
        }
        while true {
            var count = 0
            ERR_clear_error()
            let result = SSL_read_ex(ssl, scratch.baseAddress, scratch.count, &count)
            if result == 1 {
                deliver(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
                continue
            }
            switch try stall(after: result, in: "read") {
            case .needsInput:
                return true
            case .peerClosed:
                phase = .closedByPeer
                return false
            }
        }
    }

    /// Encrypts plaintext; before the handshake completes it is queued and encrypted once it does.
    public func send(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        switch phase {
        case .handshaking(closeRequested: false):
            queued.append(contentsOf: plaintext)
        case .open:
            try write(plaintext)
        case .handshaking(closeRequested: true), .closing:
            throw TLSError(operation: "write", detail: "the session was shut down (close_notify queued)")
        case .closedByPeer:
            throw TLSError(operation: "write", detail: "the peer closed the session (close_notify received)")
        case .failed(let error):
            throw error
        }
    }

    /// Appends every pending ciphertext byte (handshake records, data, alerts) to `output` and empties
    /// the queue.
    public func takeOutgoing(into output: inout [UInt8]) {
        let pending = BIO_ctrl_pending(networkOut)
        guard pending > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: pending))
        var taken = 0
        let ok = output.withUnsafeMutableBytes { bytes in
            BIO_read_ex(networkOut, bytes.baseAddress! + start, pending, &taken)
        }
        precondition(ok == 1 && taken == pending, "a memory BIO returned fewer bytes than it had pending")
    }

    /// Queues close_notify. During the handshake it is queued after any queued plaintext; after a
    /// failure there is nothing to close.
    public func shutdown() {
        switch phase {
        case .handshaking:
            phase = .handshaking(closeRequested: true)
        case .open:
            queueCloseNotify()
            phase = .closing
        case .closedByPeer:
            queueCloseNotify()
        case .closing, .failed:
            return
        }
    }
}

extension TLSSession {
    /// What a non-fatal SSL result means.
    private enum Stall {
        case needsInput
        case peerClosed
    }

    private func expectPeer(named serverName: String) throws(TLSError) {
        guard !serverName.isEmpty else {
            throw TLSError(operation: "set server name", detail: "the server name is empty")
        }
        if TLSSession.isIPAddress(serverName) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                throw TLSError(operation: "set server name", detail: "cannot verify IP address \(serverName)")
            }
            return
        }
        guard ccrypto_set_sni_host_name(ssl, serverName) == 1 else {
            throw TLSError(operation: "set server name",
                           detail: "\(serverName): \(TLSError.drainErrorQueue() ?? "rejected as SNI")")
        }
        SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
        guard SSL_set1_host(ssl, serverName) == 1 else {
            throw TLSError(operation: "set server name",
                           detail: "\(serverName): \(TLSError.drainErrorQueue() ?? "rejected for verification")")
        }
    }

    private static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }

    /// Runs SSL_do_handshake while handshaking; rethrows an earlier failure; otherwise does nothing.
    private func advanceHandshake() throws(TLSError) {
        if case .failed(let error) = phase { throw error }
        guard case .handshaking(let closeRequested) = phase else { return }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else {
            if try stall(after: result, in: "handshake") == .peerClosed {
                throw fail(TLSError(operation: "handshake", detail: "the peer closed the session during the handshake"))
            }
            return
        }
        phase = .open
        let waiting = queued
        queued = []
        let flushed = waiting.withUnsafeBytes { bytes in Result { () throws(TLSError) in try write(bytes) } }
        try flushed.get()
        if closeRequested { shutdown() }
    }

    private func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        guard let base = plaintext.baseAddress else { return }
        var offset = 0
        while offset < plaintext.count {
            var written = 0
            ERR_clear_error()
            let result = SSL_write_ex(ssl, base + offset, plaintext.count - offset, &written)
            guard result == 1 else {
                // The outgoing BIO grows without bound and renegotiation is off, so any stall is a failure.
                throw fail(failure(code: SSL_get_error(ssl, result), in: "write"))
            }
            offset += written
        }
    }

    private func queueCloseNotify() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)  // 0: sent, not yet answered; the answer is read by drainPlaintext
        ERR_clear_error()
    }

    /// Returns when OpenSSL only needs more bytes or the peer closed; records and throws anything else.
    private func stall(after result: Int32, in operation: String) throws(TLSError) -> Stall {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsInput
        case SSL_ERROR_ZERO_RETURN:
            return .peerClosed
        default:
            throw fail(failure(code: code, in: operation))
        }
    }

    /// OpenSSL's reason for `code`, with the certificate verification result when it failed.
    private func failure(code: Int32, in operation: String) -> TLSError {
        let queue = TLSError.drainErrorQueue()
        var detail: String
        switch code {
        case SSL_ERROR_SSL: detail = queue ?? "protocol error"
        case SSL_ERROR_SYSCALL: detail = queue ?? "unexpected end of the TLS stream"
        default: detail = queue ?? "SSL_get_error returned \(code)"
        }
        let verification = SSL_get_verify_result(ssl)
        if verification != Int(X509_V_OK) {
            detail += ": " + String(cString: X509_verify_cert_error_string(verification))
        }
        return TLSError(operation: operation, detail: detail)
    }

    /// Moves the session to `.failed` so later calls report the same error, and returns it to throw.
    private func fail(_ error: TLSError) -> TLSError {
        phase = .failed(error)
        queued = []
        return error
    }
}
