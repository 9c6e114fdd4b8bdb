// LoopbackClient.swift
//
// A non-blocking Glibc TCP client for driving LocalHTTPServer from the test's own thread: the test steps
// the libuv loop (`runOnce`) and the clients in turn until a condition holds or a deadline passes, so
// nothing sleeps and nothing needs a second thread.

import Glibc
@testable import TailcarCore

final class LoopbackClient {
    let fd: Int32
    private var outgoing: [UInt8] = []
    private(set) var received: [UInt8] = []
    /// The server closed its side (end of stream) or reset the connection.
    private(set) var ended = false

    init(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        precondition(fd >= 0, "socket")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(result == 0 || errno == EINPROGRESS, "connect")
    }

    deinit { close(fd) }

    func send(_ text: String) { outgoing.append(contentsOf: text.utf8) }

    func send(bytes: [UInt8]) { outgoing.append(contentsOf: bytes) }

    var text: String { String(decoding: received, as: UTF8.self) }

    /// "HTTP/1.1 200 OK..." -> 200.
    var status: Int? {
        let parts = text.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    var body: String {
        guard let blank = text.firstRange(of: "\r\n\r\n") else { return "" }
        return String(text[blank.upperBound...])
    }

    /// Moves what it can without blocking.
    func step() {
        while !outgoing.isEmpty {
            let sent = outgoing.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }
            outgoing.removeFirst(sent)
        }
        var chunk = [UInt8](repeating: 0, count: 8192)
        while !ended {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if got > 0 {
                received.append(contentsOf: chunk[..<got])
            } else if got == 0 || (errno != EAGAIN && errno != EINTR && errno != ENOTCONN) {
                ended = true
            } else {
                break
            }
        }
    }
}

/// Steps the loop and the clients until `done` holds; false when `timeoutMilliseconds` passed first.
@discardableResult
func drive(_ loop: EventLoop, _ clients: [LoopbackClient], timeoutMilliseconds: UInt64 = 10_000,
           until done: () -> Bool) -> Bool {
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    let deadline = UInt64(start.tv_sec) * 1000 + UInt64(start.tv_nsec) / 1_000_000 + timeoutMilliseconds
    while !done() {
        loop.runOnce()
        for client in clients { client.step() }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        if UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000 > deadline { return done() }
        // Wait (briefly) for any client socket to become readable instead of spinning.
        var fds = clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        _ = poll(&fds, nfds_t(fds.count), 1)
    }
    return true
}
