// DiscardingSLSSink.swift
//
// `tailcar sls-sink`: the local SLS-compatible sink `tailcar bench --keep-flusher` starts when no --sink is
// given. It listens on 127.0.0.1, reads each HTTP/1.1 request (headers, then Content-Length bytes of body,
// skipped as they come), answers 200 with an x-log-requestid, keeps connections alive, and counts requests
// and body bytes. It checks no signature and decodes nothing (Tests/harness/sls_receiver.py does, for
// tests). A single poll(2) loop; owns its sockets.

import CLibUV
import Glibc

public final class DiscardingSLSSink {
    private enum Connection {
        /// Reading a request's header block (the bytes so far).
        case headers([UInt8])
        /// Skipping this many more body bytes, then answering.
        case body(remaining: Int)
    }

    private let listener: Int32
    public let port: Int
    private var connections: [Int32: Connection] = [:]
    public private(set) var requests = 0
    public private(set) var bodyBytes = 0
    static let answer = Array(("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-log-requestid: tailcar-sls-sink\r\n"
                               + "Connection: keep-alive\r\n\r\n").utf8)

    public init() throws(SystemError) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw SystemError(operation: "socket", code: currentErrno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            let code = currentErrno
            close(listener)
            throw SystemError(operation: "bind 127.0.0.1:0", code: code)
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        for descriptor in connections.keys { close(descriptor) }
        close(listener)
    }

    /// Serves until `stop()` is true (checked at least every 100 ms).
    public func serve(until stop: () -> Bool) {
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        while !stop() {
            var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            descriptors += connections.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&descriptors, nfds_t(descriptors.count), 100) > 0 else { continue }
            for entry in descriptors where entry.revents != 0 {
                if entry.fd == listener {
                    let accepted = accept(listener, nil, nil)
                    if accepted >= 0 {
                        _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
                        connections[accepted] = .headers([])
                    }
                    continue
                }
                let count = chunk.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 {
                    if count < 0 && currentErrno == EINTR { continue }
                    close(entry.fd)
                    connections[entry.fd] = nil
                    continue
                }
                if !consume(chunk[..<count], on: entry.fd) {
                    close(entry.fd)
                    connections[entry.fd] = nil
                }
            }
        }
    }

    /// Advances one connection over bytes received; false when the request cannot be read (closed then).
    private func consume(_ bytes: ArraySlice<UInt8>, on descriptor: Int32) -> Bool {
        var rest = bytes
        while !rest.isEmpty || isAnswerDue(descriptor) {
            switch connections[descriptor] ?? .headers([]) {
            case .headers(var head):
                head += rest
                rest = []
                guard let end = Self.headerEnd(head) else {
                    if head.count > 64 << 10 { return false }
                    connections[descriptor] = .headers(head)
                    return true
                }
                guard let length = Self.contentLength(head[..<end]) else { return false }
                rest = head[(end + 4)...]
                connections[descriptor] = .body(remaining: length)
            case .body(let remaining):
                let taken = min(remaining, rest.count)
                rest = rest.dropFirst(taken)
                bodyBytes += taken
                guard remaining - taken == 0 else {
                    connections[descriptor] = .body(remaining: remaining - taken)
                    return true
                }
                requests += 1
                connections[descriptor] = .headers([])
                let sent = Self.answer.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent != Self.answer.count { return false }
            }
        }
        return true
    }

    private func isAnswerDue(_ descriptor: Int32) -> Bool {
        if case .body(remaining: 0) = connections[descriptor] { return true }
        return false
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10
            && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// Content-Length (0 when absent); nil when malformed.
    static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
        for line in String(decoding: head, as: UTF8.self).split(separator: "\r\n") {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") {
                return Int(String(lower.dropFirst("content-length:".count)).trimmingWhitespace).flatMap { $0 >= 0 ? $0 : nil }
            }
        }
        return 0
    }
}
