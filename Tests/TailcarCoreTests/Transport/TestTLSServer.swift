// TestTLSServer.swift
//
// The other end of a TLSSession in tests: an in-process OpenSSL server (SSL_accept state) over memory
// BIOs, and a pump that moves bytes between the two in memory until neither has anything to say. The
// server records what it read, whether close_notify arrived and its own failure instead of throwing,
// so a test can inspect both sides after a failed handshake.
import CCrypto
import Glibc
import Testing
@testable import TailcarCore

final class TestTLSServer {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let networkIn: OpaquePointer
    private let networkOut: OpaquePointer
    private(set) var received: [UInt8] = []
    private(set) var sawCloseNotify = false
    private(set) var failure: String?

    /// `versions` pins the protocol range, e.g. TLS1_2_VERSION...TLS1_2_VERSION.
    init(certificate: String, key: String, versions: ClosedRange<Int32> = TLS1_2_VERSION...TLS1_3_VERSION) throws {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw PKIError(description: "SSL_CTX_new") }
        self.context = context
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1,
              SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
            SSL_CTX_free(context)
            throw PKIError(description: "cannot load \(certificate) / \(key)")
        }
        _ = SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0")  // lets a test offer TLS 1.1
        _ = ccrypto_ctx_set_min_proto_version(context, versions.lowerBound)
        _ = ccrypto_ctx_set_max_proto_version(context, versions.upperBound)
        ssl = SSL_new(context)!
        networkIn = BIO_new(BIO_s_mem())!
        networkOut = BIO_new(BIO_s_mem())!
        SSL_set_bio(ssl, networkIn, networkOut)
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }
    /// The negotiated protocol, e.g. TLS1_3_VERSION.
    var version: Int32 { SSL_version(ssl) }

    func receive(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { BIO_write(networkIn, $0.baseAddress, Int32($0.count)) }
    }

    /// Runs the handshake and reads everything available; failures are recorded, not thrown.
    func advance() {
        guard failure == nil, !sawCloseNotify else { return }
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            ERR_clear_error()
            var count = 0
            let result = chunk.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &count) }
            if result == 1 {
                received.append(contentsOf: chunk[0..<count])
                continue
            }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: return
            case SSL_ERROR_ZERO_RETURN: sawCloseNotify = true
            default: failure = TLSError.drainErrorQueue() ?? "server failed"
            }
            return
        }
    }

    /// Encrypts `bytes`; call only after the handshake.
    func send(_ bytes: [UInt8]) {
        precondition(isHandshakeComplete, "the test server sends only after the handshake")
        var written = 0
        let result = bytes.withUnsafeBytes { SSL_write_ex(ssl, $0.baseAddress, $0.count, &written) }
        precondition(result == 1 && written == bytes.count, "server SSL_write failed")
    }

    func shutdown() { _ = SSL_shutdown(ssl) }

    func takeOutgoing() -> [UInt8] {
        let pending = BIO_ctrl_pending(networkOut)
        var bytes = [UInt8](repeating: 0, count: pending)
        var taken = 0
        _ = bytes.withUnsafeMutableBytes { BIO_read_ex(networkOut, $0.baseAddress, pending, &taken) }
        return Array(bytes[0..<taken])
    }
}

/// Moves bytes between a client session and a test server until both are quiet. The server's bytes reach
/// the client in seeded random pieces (1 byte to 20 KiB), so records arrive split and coalesced.
struct TLSPump {
    let client: TLSSession
    let server: TestTLSServer
    var random = SeededGenerator(seed: 0x715)
    /// Plaintext the client delivered.
    var received: [UInt8] = []
    /// The last result of drainPlaintext: false once the server's close_notify arrived.
    var clientOpen = true
    /// Every byte the server sent, in order (to tamper with in tests).
    var towardClient: [UInt8] = []

    init(client: TLSSession, server: TestTLSServer) {
        self.client = client
        self.server = server
    }

    mutating func run() throws {
        var wire: [UInt8] = []
        for _ in 0..<1_000 {
            wire.removeAll(keepingCapacity: true)
            client.takeOutgoing(into: &wire)
            server.receive(wire)
            server.advance()
            let reply = server.takeOutgoing()
            try deliver(reply)
            if wire.isEmpty && reply.isEmpty { return }
        }
        Issue.record("the pump did not settle in 1000 rounds")
    }

    /// Hands `bytes` to the client in random pieces, draining after each.
    mutating func deliver(_ bytes: [UInt8]) throws {
        towardClient.append(contentsOf: bytes)
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, Int.random(in: 1...20_480, using: &random))
            try bytes[offset..<offset + piece].withUnsafeBytes { try client.receive($0) }
            clientOpen = try client.drainPlaintext { received.append(contentsOf: $0) }
            offset += piece
        }
    }
}
