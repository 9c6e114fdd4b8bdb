// HTTPRequestParser.swift
//
// Reads one HTTP/1.x request from bytes that arrive in pieces: the request line and headers up to a size
// limit, then a Content-Length body up to a smaller one. Owns the request grammar and its limits; does not
// own sockets or routing. Only what a local probe or scraper sends is accepted; everything else is an error
// the server answers with 400.
//
//   "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"  ->  method "GET", path "/metrics", query "x=1"
//   "POST /quitquitquit HTTP/1.1\r\nContent-Length: 2\r\n\r\nok"  ->  body "ok"
//   Bare "\n" line ends are accepted too (RFC 9112 section 2.2).

/// One parsed request.
public struct LocalHTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    /// Header names lowercased, values trimmed, in arrival order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

public enum HTTPRequestError: Error, Equatable, CustomStringConvertible, Sendable {
    case headerTooLarge(limit: Int)
    case bodyTooLarge(limit: Int)
    case malformedRequestLine
    case unsupportedVersion
    case malformedHeader
    case invalidContentLength
    case transferEncodingNotSupported

    public var description: String {
        switch self {
        case .headerTooLarge(let limit): return "request line and headers exceed \(limit) bytes"
        case .bodyTooLarge(let limit): return "body exceeds \(limit) bytes"
        case .malformedRequestLine: return "malformed request line"
        case .unsupportedVersion: return "only HTTP/1.0 and HTTP/1.1 are served"
        case .malformedHeader: return "malformed header line"
        case .invalidContentLength: return "invalid Content-Length"
        case .transferEncodingNotSupported: return "Transfer-Encoding is not supported"
        }
    }
}

struct HTTPRequestParser {
    let maxHeaderBytes: Int
    let maxBodyBytes: Int
    private var buffered: [UInt8] = []
    /// Where the search for the blank line resumes.
    private var scanned = 0
    private var head: LocalHTTPRequest?
    private var bodyLength = 0

    init(maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds bytes; returns the request once it is complete. Bytes after a complete request are ignored.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPRequestError) -> LocalHTTPRequest? {
        if var request = head {
            let wanted = min(bytes.count, bodyLength - request.body.count)
            request.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<wanted]))
            head = request
            return request.body.count == bodyLength ? request : nil
        }
        buffered.append(contentsOf: bytes)
        guard let end = headerEnd() else {
            if buffered.count > maxHeaderBytes { throw .headerTooLarge(limit: maxHeaderBytes) }
            return nil
        }
        if end.headerBytes > maxHeaderBytes { throw .headerTooLarge(limit: maxHeaderBytes) }
        var request = try parseHead(buffered[..<end.headerBytes])
        bodyLength = try contentLength(request)
        let rest = buffered[end.bodyStart...]
        request.body.append(contentsOf: rest.prefix(bodyLength))
        buffered = []
        head = request
        return request.body.count == bodyLength ? request : nil
    }

    /// The blank line that ends the head: (bytes before it, index of the first body byte).
    private mutating func headerEnd() -> (headerBytes: Int, bodyStart: Int)? {
        var index = max(scanned, 0)
        while index < buffered.count {
            if buffered[index] == 0x0A {
                if index >= 1, buffered[index - 1] == 0x0A { return (index - 1, index + 1) }
                if index >= 2, buffered[index - 1] == 0x0D, buffered[index - 2] == 0x0A { return (index - 2, index + 1) }
            }
            index += 1
        }
        scanned = max(0, buffered.count - 2)
        return nil
    }

    private func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPRequestError) -> LocalHTTPRequest {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        guard !lines.isEmpty else { throw .malformedRequestLine }
        var request = try parseRequestLine(lines.removeFirst())
        for line in lines {
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[..<colon].allSatisfy(isTokenByte),
                  line[line.index(after: colon)...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
            else { throw .malformedHeader }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            var value = line[line.index(after: colon)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
            request.headers.append((name, String(decoding: value, as: UTF8.self)))
        }
        return request
    }

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPRequestError) -> LocalHTTPRequest {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte),
              parts[1].first == 0x2F, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .malformedRequestLine }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            if version.hasPrefix("HTTP/") { throw .unsupportedVersion }
            throw .malformedRequestLine
        }
        let target = String(decoding: parts[1], as: UTF8.self)
        let path: String
        var query = ""
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
        }
        return LocalHTTPRequest(method: String(decoding: parts[0], as: UTF8.self), path: path, query: query,
                           headers: [], body: [])
    }

    private func contentLength(_ request: LocalHTTPRequest) throws(HTTPRequestError) -> Int {
        if request.header("transfer-encoding") != nil { throw .transferEncodingNotSupported }
        let values = request.headers.filter { $0.name == "content-length" }.map(\.value)
        guard let first = values.first else { return 0 }
        guard values.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
              first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(first)
        else { throw .invalidContentLength }
        if length > maxBodyBytes { throw .bodyTooLarge(limit: maxBodyBytes) }
        return length
    }
}
