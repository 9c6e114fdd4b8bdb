// HTTPResponseParser.swift
//
// An incremental HTTP/1.1 response parser: fed arbitrary chunks as they arrive from the socket, it
// yields one response (status, headers, body) with limits on every dimension a hostile or broken peer
// could stretch. Owns framing (Content-Length, chunked, read-until-close) and the limits; does not own
// sockets, timeouts or what a status means to SLS (SLSResponse.swift).
//
// States, in order: statusLine → headers → (fixedBody | chunkSize ⇄ chunkData → trailers | untilClose)
// → complete. 1xx interim responses are skipped back to statusLine.

/// What a peer sent that this parser will not accept, or where the stream ended too early.
public enum HTTPParseError: Error, Equatable, Sendable {
    case malformedStatusLine(String)
    case unsupportedVersion(String)
    /// A status line, header, chunk-size or trailer line longer than the limit.
    case lineTooLong(limit: Int)
    case tooManyHeaders(limit: Int)
    case headersTooLarge(limit: Int)
    case malformedHeader(String)
    case invalidContentLength(String)
    case conflictingContentLength
    case bodyTooLarge(limit: Int)
    case invalidChunkSize(String)
    /// Chunk data not followed by CRLF.
    case missingChunkTerminator
    /// The connection closed before the response was complete; names the state it was in.
    case prematureEOF(during: String)
}

public struct HTTPParserLimits: Sendable {
    public var maxLineBytes: Int
    public var maxHeaderCount: Int
    public var maxHeaderBytes: Int
    public var maxBodyBytes: Int

    public init(maxLineBytes: Int = 8192, maxHeaderCount: Int = 100, maxHeaderBytes: Int = 64 * 1024,
                maxBodyBytes: Int = 1024 * 1024) {
        self.maxLineBytes = maxLineBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The server will close the connection after this response (`Connection: close`, HTTP/1.0
    /// without keep-alive, or a body delimited by the close).
    public var closesConnection: Bool

    /// The first header named `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

public struct HTTPResponseParser {
    enum State {
        case statusLine
        case headers
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case complete
    }

    public enum Progress: Equatable, Sendable {
        case needMore
        /// A response is complete; `consumed` bytes of the last chunk belonged to it.
        case complete(consumed: Int)
    }

    public let limits: HTTPParserLimits
    var state = State.statusLine
    var line: [UInt8] = []
    var headerBytes = 0
    var response = HTTPResponse(status: 0, reason: "", headers: [], body: [], closesConnection: false)
    var isHTTP10 = false

    public init(limits: HTTPParserLimits = HTTPParserLimits()) { self.limits = limits }

    /// Forgets everything, for the next response on a kept-alive connection.
    public mutating func reset() { self = HTTPResponseParser(limits: limits) }

    /// Feeds bytes. After `.complete`, read `takeResponse()`; bytes past `consumed` are not this response's.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> Progress {
        var index = 0
        while index < bytes.count {
            if case .complete = state { return .complete(consumed: index) }
            index = try step(bytes, from: index)
        }
        if case .complete = state { return .complete(consumed: index) }
        return .needMore
    }

    /// The peer closed the connection. Completes a body delimited by the close; anything else unfinished
    /// is `prematureEOF`.
    public mutating func finish() throws(HTTPParseError) -> Progress {
        switch state {
        case .complete: return .complete(consumed: 0)
        case .untilClose:
            state = .complete
            return .complete(consumed: 0)
        default: throw .prematureEOF(during: stateName)
        }
    }

    /// The completed response (nil before completion).
    public func takeResponse() -> HTTPResponse? {
        if case .complete = state { return response }
        return nil
    }

    var stateName: String {
        switch state {
        case .statusLine: return "status line"
        case .headers: return "headers"
        case .fixedBody: return "body"
        case .chunkSize, .chunkData, .chunkDataEnd: return "chunked body"
        case .trailers: return "trailers"
        case .untilClose: return "body"
        case .complete: return "complete"
        }
    }

    /// Consumes bytes for the current state starting at `index`; returns the new index.
    mutating func step(_ bytes: UnsafeRawBufferPointer, from index: Int) throws(HTTPParseError) -> Int {
        switch state {
        case .statusLine, .headers, .chunkSize, .trailers:
            guard let (next, full) = try takeLine(bytes, from: index) else { return bytes.count }
            try handleLine(full)
            return next
        case .fixedBody(let remaining):
            let take = min(remaining, bytes.count - index)
            try appendBody(bytes, index, take)
            state = remaining == take ? .complete : .fixedBody(remaining: remaining - take)
            return index + take
        case .chunkData(let remaining):
            let take = min(remaining, bytes.count - index)
            try appendBody(bytes, index, take)
            state = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            return index + take
        case .chunkDataEnd:
            guard let (next, full) = try takeLine(bytes, from: index) else { return bytes.count }
            guard full.isEmpty else { throw .missingChunkTerminator }
            state = .chunkSize
            return next
        case .untilClose:
            try appendBody(bytes, index, bytes.count - index)
            return bytes.count
        case .complete:
            return index
        }
    }

    mutating func appendBody(_ bytes: UnsafeRawBufferPointer, _ index: Int, _ count: Int) throws(HTTPParseError) {
        guard response.body.count + count <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        response.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)]))
    }

    /// Accumulates up to and including LF. Returns the index after the LF and the line without CRLF, or
    /// nil when the chunk ended first.
    mutating func takeLine(_ bytes: UnsafeRawBufferPointer,
                           from index: Int) throws(HTTPParseError) -> (Int, [UInt8])? {
        var cursor = index
        while cursor < bytes.count && bytes[cursor] != 0x0A { cursor += 1 }
        let piece = cursor - index
        guard line.count + piece <= limits.maxLineBytes else { throw .lineTooLong(limit: limits.maxLineBytes) }
        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<cursor]))
        if isHeaderSection {
            headerBytes += piece + (cursor < bytes.count ? 1 : 0)
            guard headerBytes <= limits.maxHeaderBytes else { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
        }
        guard cursor < bytes.count else { return nil }
        var full = line
        line.removeAll(keepingCapacity: true)
        if full.last == 0x0D { full.removeLast() }
        return (cursor + 1, full)
    }

    var isHeaderSection: Bool {
        switch state {
        case .statusLine, .headers, .trailers: return true
        default: return false
        }
    }
}
