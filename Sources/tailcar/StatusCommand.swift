// StatusCommand.swift
//
// `tailcar status [--port PORT] [--timeout SECONDS]`: asks a running tailcar's GET /healthz on
// 127.0.0.1 with a blocking socket and a deadline. Exit 0 when it answers 200 (saying "degraded" when
// the agent collects but cannot save checkpoints), 1 otherwise, with one line saying why; 2 for a usage error. The liveness exec probe (the vendor image's `ilogtaild status`).
// Owns that client; does not own the server (TailcarCore's Agent+Health.swift).

import Glibc
import TailcarCore

enum StatusCommand {
    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        let port: Int
        let timeout: Duration
        do throws(UsageError) {
            let parsed = try Arguments(arguments, valued: ["port", "timeout"], flags: [])
            guard parsed.positional.isEmpty else {
                throw UsageError(description: "unexpected argument \"\(parsed.positional[0])\"")
            }
            let text = parsed.value("port") ?? environment.httpPort ?? "\(defaultHTTPPort)"
            guard let chosen = try parsePort(text, what: parsed.value("port") == nil ? "TAILCAR_HTTP_PORT" : "--port")
            else { throw UsageError(description: "port 0 means no endpoint: nothing to ask") }
            port = chosen
            timeout = try parsed.seconds("timeout") ?? .seconds(3)
        } catch {
            printError("tailcar status: \(error)")
            return 2
        }
        do throws(ProbeError) {
            let (status, body) = try HealthProbe(port: port, timeout: timeout).fetch()
            let detail = body.split(separator: "\n").first.map(String.init) ?? ""
            guard status == 200 else { throw .unhealthy(status: status, body: detail) }
            let state = detail.contains("\"status\":\"degraded\"") ? "running, degraded" : "healthy"
            print("tailcar on 127.0.0.1:\(port) is \(state): \(detail)")
            return 0
        } catch {
            printError("tailcar status: 127.0.0.1:\(port): \(error)")
            return 1
        }
    }
}

enum ProbeError: Error, CustomStringConvertible {
    case system(SystemError)
    case timedOut(String)
    case malformedResponse
    case unhealthy(status: Int, body: String)

    var description: String {
        switch self {
        case .system(let error): return error.description
        case .timedOut(let stage): return "no answer within the timeout (\(stage))"
        case .malformedResponse: return "the answer is not an HTTP response"
        case .unhealthy(let status, let body): return "unhealthy: HTTP \(status) \(body)"
        }
    }
}

/// One GET /healthz over a non-blocking socket, every wait bounded by one deadline.
struct HealthProbe {
    let port: Int
    let deadline: UInt64

    init(port: Int, timeout: Duration) {
        self.port = port
        let (seconds, attoseconds) = timeout.components
        deadline = monotonicMilliseconds() + UInt64(max(0, seconds)) * 1000
            + UInt64(max(0, attoseconds) / 1_000_000_000_000_000)
    }

    /// The status code and body.
    func fetch() throws(ProbeError) -> (Int, String) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard let fd = try call("socket", { socket(AF_INET, type, 0) }) else { throw .system(SystemError(operation: "socket", code: EAGAIN)) }
        defer { close(fd) }
        try connect(fd)
        let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            try wait(fd, for: Int16(POLLOUT), stage: "sending")
            sent += try call("send") {
                request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            } ?? 0
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while response.count < 1 << 20 {
            try wait(fd, for: Int16(POLLIN), stage: "reading")
            guard let n = try call("recv", { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) } })
            else { continue }
            if n == 0 { break }
            response.append(contentsOf: chunk[..<n])
        }
        return try parse(response)
    }

    private func connect(_ fd: Int32) throws(ProbeError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return }
        let code = currentErrno
        guard code == EINPROGRESS else { throw .system(SystemError(operation: "connect", code: code)) }
        try wait(fd, for: Int16(POLLOUT), stage: "connecting")
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try call("getsockopt") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) }
        if failure != 0 { throw .system(SystemError(operation: "connect", code: failure)) }
    }

    private func wait(_ fd: Int32, for events: Int16, stage: String) throws(ProbeError) {
        while true {
            let now = monotonicMilliseconds()
            guard now < deadline else { throw .timedOut(stage) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            if let ready = try call("poll", { poll(&entry, 1, Int32(min(deadline - now, UInt64(Int32.max)))) }),
               ready > 0 { return }
        }
    }

    /// `systemCall` (EINTR retried), with EAGAIN as nil: the caller polls again.
    private func call<T: FixedWidthInteger>(_ operation: String, _ body: () -> T) throws(ProbeError) -> T? {
        do {
            return try systemCall(operation, body)
        } catch {
            if error.code == EAGAIN { return nil }
            throw .system(error)
        }
    }

    /// "HTTP/1.1 200 OK\r\n...\r\n\r\nbody" -> (200, "body").
    private func parse(_ response: [UInt8]) throws(ProbeError) -> (Int, String) {
        let statusLine = response.prefix { $0 != 0x0D && $0 != 0x0A }
        let parts = String(decoding: statusLine, as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformedResponse
        }
        let blank = response.indices.first { index in
            index + 3 < response.count && response[index...index + 3].elementsEqual([0x0D, 0x0A, 0x0D, 0x0A])
        }
        guard let blank else { return (status, "") }
        return (status, String(decoding: response[(blank + 4)...], as: UTF8.self))
    }
}

func monotonicMilliseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
}
