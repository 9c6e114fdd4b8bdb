// End to end against Tests/harness/sls_receiver.py, which decodes with the official Python SDK and
// recomputes the signature with its AuthV1: LogGroupEncoder + Compressor + PutLogsRequest +
// HTTPRequestWriter over a loopback socket, HTTPResponseParser + SLSResponse on the way back.
// Skipped when the harness venv is missing (see Tests/harness/requirements.txt).
import Glibc
import Testing
@testable import TailcarCore

enum Harness {
    static let directory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Transport/SLSReceiverTests.swift, TailcarCoreTests
        return parts.joined(separator: "/") + "/harness"
    }()
    /// The project's test venv (scripts/venv.sh installs the harness requirements there), else one beside
    /// the harness.
    static let python: String = {
        let root = directory.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        let shared = root + "/.venv/bin/python"
        return access(shared, X_OK) == 0 ? shared : directory + "/.venv/bin/python"
    }()
    static var available: Bool { access(python, X_OK) == 0 }
}

/// The receiver as a child process; `stop()` terminates and reaps it.
final class ReceiverProcess {
    let pid: pid_t
    let port: UInt16

    init(arguments: [String]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError(operation: "pipe", code: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let argv = ([Harness.python, Harness.directory + "/sls_receiver.py"] + arguments).map { strdup($0) } + [nil]
        var child: pid_t = 0
        let spawned = posix_spawn(&child, Harness.python, &actions, nil, argv, environ)
        argv.forEach { free($0) }
        posix_spawn_file_actions_destroy(&actions)
        close(fds[1])
        defer { close(fds[0]) }
        guard spawned == 0 else { throw SystemError(operation: "posix_spawn", path: Harness.python, code: spawned) }
        pid = child
        var line: [UInt8] = []
        var byte: UInt8 = 0
        var poller = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        while line.last != 0x0A {
            guard poll(&poller, 1, 20_000) == 1, read(fds[0], &byte, 1) == 1 else {
                kill(child, SIGKILL)
                waitpid(child, nil, 0)
                throw SystemError(operation: "read receiver port", code: ETIMEDOUT)
            }
            line.append(byte)
        }
        port = UInt16(String(decoding: line.dropFirst(5).dropLast(), as: UTF8.self)) ?? 0
    }

    func stop() {
        kill(pid, SIGKILL)  // posix_spawn inherits the test thread's signal mask, which may block SIGTERM
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Sends `request` on a fresh connection and parses the answer.
    func exchange(_ request: [UInt8]) throws -> HTTPResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SystemError(operation: "connect", code: errno) }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SystemError(operation: "send", code: errno) }
            sent += n
        }
        var parser = HTTPResponseParser()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw SystemError(operation: "recv", code: errno) }
            if n == 0 { _ = try parser.finish(); break }
            let progress = try buffer.withUnsafeBytes { try parser.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if case .complete = progress { break }
        }
        return parser.takeResponse()!
    }

    func control(fault: String) throws {
        let response = try exchange(Array("POST /_control?fault=\(fault) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(response.status == 200)
    }

    func received() throws -> String {
        let response = try exchange(Array("GET /_received HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        return String(decoding: response.body, as: UTF8.self)
    }
}

/// One signed PutLogs request for `group`, as wire bytes.
func putLogsBytes(_ group: EventGroup, compression: BodyCompression, credentials: Credentials) throws -> [UInt8] {
    var encoder = LogGroupEncoder(includeNanoseconds: true)
    encoder.encode(group: group, meta: LogGroupMeta(group: group.source, source: "10.0.0.7"))
    let compressor = Compressor(compression)
    try encoder.withEncoded { _ = try compressor.compress($0) }
    var writer = HTTPRequestWriter()
    compressor.withOutput { body in
        let request = PutLogsRequest(project: "proj", endpoint: "cn-hangzhou.log.aliyuncs.com", logstore: "app",
                                     credentials: credentials, body: body, rawSize: encoder.count,
                                     compression: compression, epochSeconds: Int(time(nil)))
        writer.write(request, body: body)
    }
    return writer.bytes
}

@Suite("SLS receiver (official Python SDK)", .serialized, .enabled(if: Harness.available,
       "Tests/harness/.venv is missing: python3 -m venv Tests/harness/.venv && Tests/harness/.venv/bin/pip install -r Tests/harness/requirements.txt"))
struct SLSReceiverTests {
    let credentials = Credentials(accessKeyID: "mockAccessKeyID", accessKeySecret: "mockAccessKeySecret")

    func sampleGroup() -> EventGroup {
        let group = makeGroup([(1_795_744_200, 5, [("content", "GET /a 200")]),
                               (1_795_744_201, 0, [("content", "x"), ("status", "500")])])
        group.source = EventSource(path: "/var/log/app.log", topic: "web", tags: [(key: "_pod_name_", value: "web-1")])
        return group
    }

    @Test("lz4 and zstd requests are accepted and the SDK decodes the same records, tags and topic")
    func accepted() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        for (compression, token) in [(BodyCompression.lz4, nil), (.zstd, "sts-token"), (.none, nil)] {
            var creds = credentials
            creds.securityToken = token
            let response = try receiver.exchange(try putLogsBytes(sampleGroup(), compression: compression, credentials: creds))
            #expect(response.status == 200, "\(compression): \(String(decoding: response.body, as: UTF8.self))")
            #expect(response.header("x-log-requestid") != nil)
            #expect(SLSResponse.disposition(of: response) == .delivered)
        }
        let received = try receiver.received()
        let expected = "{\"topic\": \"web\", \"source\": \"10.0.0.7\", \"tags\": [[\"__path__\", \"/var/log/app.log\"], "
            + "[\"_pod_name_\", \"web-1\"]], \"logs\": [{\"time\": 1795744200, \"contents\": [[\"content\", \"GET /a 200\"]], "
            + "\"time_ns\": 5}, {\"time\": 1795744201, \"contents\": [[\"content\", \"x\"], [\"status\", \"500\"]], \"time_ns\": 0}]"
        for kind in ["lz4", "zstd", ""] {
            #expect(received.contains(expected + ", \"compress\": \"\(kind)\""), "\(kind): \(received)")
        }
        #expect(received.contains("\"token\": \"sts-token\""))
    }

    @Test("a wrong secret is answered 401 SignatureNotMatch, which needs an operator")
    func wrongSecret() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        let wrong = Credentials(accessKeyID: "mockAccessKeyID", accessKeySecret: "not-the-secret")
        let response = try receiver.exchange(try putLogsBytes(sampleGroup(), compression: .lz4, credentials: wrong))
        let error = SLSResponse.error(from: response)
        #expect(error?.status == 401 && error?.code == "SignatureNotMatch" && error?.requestID != nil)
        #expect(error?.disposition == .needsOperator)
    }

    @Test("injected faults: 500 and 429 retry, garbage is a parse error, a reset is a network error")
    func faults() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        let request = try putLogsBytes(sampleGroup(), compression: .zstd, credentials: credentials)
        try receiver.control(fault: "500")
        #expect(SLSResponse.error(from: try receiver.exchange(request))?.code == "InternalServerError")
        try receiver.control(fault: "429")
        let quota = SLSResponse.error(from: try receiver.exchange(request))
        #expect(quota?.status == 429 && quota?.code == "WriteQuotaExceed" && quota?.disposition == .retry)
        try receiver.control(fault: "garbage")
        #expect(throws: HTTPParseError.self) { _ = try receiver.exchange(request) }
        try receiver.control(fault: "reset")
        #expect(throws: (any Error).self) { _ = try receiver.exchange(request) }
        try receiver.control(fault: "slow")
        #expect(try receiver.exchange(request).status == 200)
    }
}
