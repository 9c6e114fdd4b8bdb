// MetricsProbe.swift
//
// What `tailcar bench` reads from its child's /metrics on 127.0.0.1: bytes and records read and the lag
// (tailcar_file_lag_bytes summed over files: bytes in them not yet acknowledged by every flusher). A plain
// blocking HTTP/1.0 GET with a timeout: the bench has no event loop. Owns the request and the few values.

import CLibUV
import Glibc

public struct AgentProgress: Sendable, Equatable {
    public var bytesRead: UInt64 = 0
    public var recordsRead: UInt64 = 0
    public var lagBytes: UInt64 = 0

    public init() {}

    /// Reads the counters out of Prometheus text; nil when bytes_read is missing (not Tailcar's /metrics).
    public init?(prometheus text: String) {
        var sawBytes = false
        for line in text.split(separator: "\n") where line.hasPrefix("tailcar_") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let name = line[..<space]
            let count = UInt64(max(0, value))
            if name == "tailcar_bytes_read_total" {
                bytesRead = count
                sawBytes = true
            } else if name == "tailcar_records_read_total" {
                recordsRead = count
            } else if name.hasPrefix("tailcar_file_lag_bytes{") {
                lagBytes += count
            }
        }
        if !sawBytes { return nil }
    }
}

public enum MetricsProbe {
    /// GET http://127.0.0.1:port/metrics; nil when nothing answers within `timeout` seconds.
    public static func read(port: Int, timeout: Double = 2) -> AgentProgress? {
        guard let body = get(port: port, path: "/metrics", timeout: timeout) else { return nil }
        return AgentProgress(prometheus: body)
    }

    /// The body of a 200 answer, else nil.
    static func get(port: Int, path: String, timeout: Double) -> String? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            return nil
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += chunk[..<count]
            if let body = completeBody(response) { return body }
        }
        return completeBody(response, atEnd: true)
    }

    /// The body once the headers and Content-Length bytes (or, at the end of the stream, whatever came) are in.
    static func completeBody(_ response: [UInt8], atEnd: Bool = false) -> String? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard response.count >= 12, let headerEnd = firstIndex(of: separator, in: response) else { return nil }
        let head = String(decoding: response[..<headerEnd], as: UTF8.self)
        guard head.hasPrefix("HTTP/1."), head.split(separator: " ").dropFirst().first == "200" else { return nil }
        let body = response[(headerEnd + 4)...]
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            guard let length = Int(String(line.dropFirst("content-length:".count)).trimmingWhitespace) else { break }
            return body.count >= length ? String(decoding: body.prefix(length), as: UTF8.self) : nil
        }
        return atEnd ? String(decoding: body, as: UTF8.self) : nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }
}
