// Tests of TLSSession against an in-process OpenSSL server over memory BIOs, with certificates made by
// the openssl CLI: handshakes and echo at TLS 1.2 and 1.3, 1 MiB each way, verification failures that
// say why, hostile bytes, trust-store loading errors that name the file, and close_notify both ways.
import CCrypto
import Glibc
import Testing
@testable import TailcarCore

@Suite("TLSSession")
struct TLSSessionTests {
    /// A client for `serverName` trusting `caFile` (the test CA when nil), facing a server that presents
    /// the certificate made for `served`.
    func connection(_ pki: TestPKI, serverName: String = "logs.test", served: String = "logs.test",
                    caFile: String? = nil,
                    versions: ClosedRange<Int32> = TLS1_2_VERSION...TLS1_3_VERSION) throws -> TLSPump {
        let files = try pki.serverCertificate(for: served)
        let server = try TestTLSServer(certificate: files.certificate, key: files.key, versions: versions)
        let context = try TLSContext(caFile: caFile ?? pki.trustedCA)
        return TLSPump(client: try TLSSession(context: context, serverName: serverName), server: server)
    }

    func send(_ text: String, on session: TLSSession) throws {
        try Array(text.utf8).withUnsafeBytes { try session.send($0) }
    }

    @Test("handshake, then echo both ways", arguments: [TLS1_2_VERSION, TLS1_3_VERSION])
    func echo(version: Int32) throws {
        let pki = try TestPKI()
        var pump = try connection(pki, versions: version...version)
        #expect(!pump.client.isHandshakeComplete)
        try pump.client.startHandshake()
        try pump.run()
        #expect(pump.client.isHandshakeComplete)
        #expect(pump.server.isHandshakeComplete)
        #expect(pump.server.version == version)

        try send("GET / HTTP/1.1\r\n\r\n", on: pump.client)
        try pump.run()
        #expect(String(decoding: pump.server.received, as: UTF8.self) == "GET / HTTP/1.1\r\n\r\n")
        pump.server.send(Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        try pump.run()
        #expect(String(decoding: pump.received, as: UTF8.self) == "HTTP/1.1 200 OK\r\n\r\n")
        #expect(pump.clientOpen)
    }

    @Test("plaintext sent before the handshake is delivered once it completes, then a queued shutdown")
    func sendBeforeHandshake() throws {
        let pki = try TestPKI()
        var pump = try connection(pki)
        try send("early ", on: pump.client)
        try send("request", on: pump.client)
        pump.client.shutdown()
        #expect(throws: TLSError.self) { try send("too late", on: pump.client) }
        try pump.client.startHandshake()
        try pump.run()
        #expect(String(decoding: pump.server.received, as: UTF8.self) == "early request")
        #expect(pump.server.sawCloseNotify)
    }

    @Test("a 1 MiB payload arrives intact in both directions")
    func megabyte() throws {
        let pki = try TestPKI()
        var pump = try connection(pki)
        var random = SeededGenerator(seed: 42)
        let upload = (0..<1 << 20).map { _ in UInt8.random(in: 0...255, using: &random) }
        let download = (0..<1 << 20).map { _ in UInt8.random(in: 0...255, using: &random) }
        try upload.withUnsafeBytes { try pump.client.send($0) }  // queued: the handshake has not run
        try pump.client.startHandshake()
        try pump.run()
        #expect(pump.server.received == upload)
        pump.server.send(download)
        try pump.run()
        #expect(pump.received.count == download.count)
        #expect(pump.received == download)
    }

    @Test("a certificate for another name fails verification and says hostname mismatch")
    func wrongHostname() throws {
        let pki = try TestPKI()
        var pump = try connection(pki, serverName: "logs.test", served: "other.test")
        try pump.client.startHandshake()
        let error = #expect(throws: TLSError.self) { try pump.run() }
        #expect(error?.operation == "handshake")
        #expect(error?.detail == "certificate verify failed: hostname mismatch")
        #expect(error?.description == "TLS handshake: certificate verify failed: hostname mismatch")
        #expect(!pump.client.isHandshakeComplete)
        // The session stays failed: every later call reports the same error.
        let again = #expect(throws: TLSError.self) { try pump.client.drainPlaintext { _ in } }
        #expect(again == error)
        #expect(throws: TLSError.self) { try pump.client.startHandshake() }
        #expect(throws: TLSError.self) { try send("x", on: pump.client) }
    }

    @Test("an IP address name is verified against the certificate's IP addresses")
    func ipAddress() throws {
        let pki = try TestPKI()
        var good = try connection(pki, serverName: "127.0.0.1", served: "127.0.0.1")
        try good.client.startHandshake()
        try good.run()
        #expect(good.client.isHandshakeComplete)

        var bad = try connection(pki, serverName: "127.0.0.2", served: "127.0.0.1")
        try bad.client.startHandshake()
        let error = #expect(throws: TLSError.self) { try bad.run() }
        #expect(error?.detail.hasSuffix("IP address mismatch") == true)
    }

    @Test("a server signed by a CA the client does not trust is refused")
    func untrustedCA() throws {
        let pki = try TestPKI()
        var pump = try connection(pki, caFile: try pki.rogueCA())
        try pump.client.startHandshake()
        let error = #expect(throws: TLSError.self) { try pump.run() }
        #expect(error?.detail == "certificate verify failed: unable to get local issuer certificate")
        var alert: [UInt8] = []
        pump.client.takeOutgoing(into: &alert)  // the pump stopped at the throw; the alert is still queued
        pump.server.receive(alert)
        pump.server.advance()
        #expect(pump.server.failure == "tlsv1 alert unknown ca")
    }

    @Test("a server that only speaks TLS 1.1 is refused")
    func oldProtocol() throws {
        let pki = try TestPKI()
        var pump = try connection(pki, versions: TLS1_1_VERSION...TLS1_1_VERSION)
        try pump.client.startHandshake()
        let error = #expect(throws: TLSError.self) { try pump.run() }
        #expect(error?.operation == "handshake")
        #expect(error?.detail == "tlsv1 alert protocol version")
        #expect(!pump.client.isHandshakeComplete)
    }

    /// What a confused or hostile "server" might answer a ClientHello with.
    static let garbageReplies: [String: [UInt8]] = {
        var random = SeededGenerator(seed: 7)
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }
        return [
            "plain HTTP": Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8),
            "random bytes": noise,
            "a handshake record of random bytes": [0x16, 0x03, 0x03, 0x10, 0x00] + noise,
        ]
    }()

    @Test("garbage from the server gives a TLSError, not a crash",
          arguments: ["plain HTTP", "random bytes", "a handshake record of random bytes"])
    func garbage(kind: String) throws {
        let pki = try TestPKI()
        let session = try TLSSession(context: try TLSContext(caFile: pki.trustedCA), serverName: "logs.test")
        try session.startHandshake()
        var hello: [UInt8] = [0xAA]
        session.takeOutgoing(into: &hello)  // appends after what the buffer holds
        #expect(hello.count > 1 && hello[0] == 0xAA && hello[1] == 0x16)  // a handshake record: the ClientHello
        let reply = try #require(Self.garbageReplies[kind])
        try reply.withUnsafeBytes { try session.receive($0) }
        let error = #expect(throws: TLSError.self) { try session.drainPlaintext { _ in Issue.record("plaintext") } }
        #expect(error?.operation == "handshake")
        #expect(error?.detail.isEmpty == false)
        var alert: [UInt8] = []
        session.takeOutgoing(into: &alert)  // an alert may be queued; taking it must not trap
        #expect(throws: TLSError.self) { try reply.withUnsafeBytes { try session.receive($0) } }
    }

    @Test("a tampered application record fails the read")
    func tamperedRecord() throws {
        let pki = try TestPKI()
        var pump = try connection(pki)
        try pump.client.startHandshake()
        try pump.run()
        pump.server.send(Array("secret".utf8))
        var record = pump.server.takeOutgoing()
        record[record.count - 1] ^= 0x01
        let error = #expect(throws: TLSError.self) { try pump.deliver(record) }
        #expect(error?.operation == "read")
        #expect(error?.detail == "decryption failed or bad record mac")
        #expect(pump.received.isEmpty)
    }

    @Test("a CA file that does not exist gives an error naming the path")
    func missingCAFile() throws {
        let pki = try TestPKI()
        let path = pki.directory + "/missing.pem"
        let error = #expect(throws: TLSError.self) { try TLSContext(caFile: path) }
        #expect(error?.operation == "load CA file")
        #expect(error?.detail == "\(path): No such file or directory")
    }

    @Test("a CA file with no certificate in it gives an error naming the path")
    func emptyCAFile() throws {
        let pki = try TestPKI()
        let path = pki.directory + "/empty.pem"
        try pki.write("not a certificate\n", to: path)
        let error = #expect(throws: TLSError.self) { try TLSContext(caFile: path) }
        #expect(error?.operation == "load CA file")
        #expect(error?.detail.hasPrefix(path + ": ") == true)
    }

    @Test("the default trust store loads")
    func defaultTrust() throws {
        _ = try TLSContext()
        #expect(TLSContext.trustFile(caFile: "/given.pem") == "/given.pem")
    }

    @Test("an empty server name is refused")
    func emptyServerName() throws {
        let pki = try TestPKI()
        let context = try TLSContext(caFile: pki.trustedCA)
        let error = #expect(throws: TLSError.self) { try TLSSession(context: context, serverName: "") }
        #expect(error?.operation == "set server name")
    }

    @Test("the server's close_notify makes drainPlaintext return false after the last data")
    func peerCloses() throws {
        let pki = try TestPKI()
        var pump = try connection(pki)
        try pump.client.startHandshake()
        try pump.run()
        pump.server.send(Array("bye".utf8))
        pump.server.shutdown()
        try pump.run()
        #expect(String(decoding: pump.received, as: UTF8.self) == "bye")
        #expect(!pump.clientOpen)
        #expect(try pump.client.drainPlaintext { _ in } == false)
        #expect(throws: TLSError.self) { try send("more", on: pump.client) }
        pump.client.shutdown()  // answers with our own close_notify
        try pump.run()
        #expect(pump.server.sawCloseNotify)
    }

    @Test("the client's shutdown reaches the server, and the server's answer closes the client")
    func clientCloses() throws {
        let pki = try TestPKI()
        var pump = try connection(pki)
        try pump.client.startHandshake()
        try pump.run()
        pump.client.shutdown()
        #expect(throws: TLSError.self) { try send("after shutdown", on: pump.client) }
        try pump.run()
        #expect(pump.server.sawCloseNotify)
        #expect(pump.clientOpen)
        pump.server.send(Array("last words".utf8))
        pump.server.shutdown()
        try pump.run()
        #expect(String(decoding: pump.received, as: UTF8.self) == "last words")
        #expect(!pump.clientOpen)
    }
}
