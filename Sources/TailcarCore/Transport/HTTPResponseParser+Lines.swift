// HTTPResponseParser+Lines.swift
//
// What each complete line means to the response parser: the status line, header fields, the end of
// the header section (which decides how the body is framed), chunk-size lines and trailers.

extension HTTPResponseParser {
    mutating func handleLine(_ full: [UInt8]) throws(HTTPParseError) {
        switch state {
        case .statusLine: try parseStatusLine(full)
        case .headers:
            if full.isEmpty { try endOfHeaders() } else { try parseHeader(full) }
        case .chunkSize: try parseChunkSize(full)
        case .trailers:
            if full.isEmpty { state = .complete } else { _ = try checkHeaderLine(full) }
        default: preconditionFailure("handleLine in \(stateName)")
        }
    }

    /// `HTTP/1.1 200 OK`
    mutating func parseStatusLine(_ full: [UInt8]) throws(HTTPParseError) {
        let text = printable(full)
        guard full.count >= 12, full[8] == 0x20, full[12...].first.map({ $0 == 0x20 }) ?? true else {
            throw .malformedStatusLine(text)
        }
        guard full.starts(with: Array("HTTP/".utf8)) else { throw .malformedStatusLine(text) }
        guard full.starts(with: Array("HTTP/1.".utf8)) else { throw .unsupportedVersion(printable(full.prefix(8))) }
        switch full[7] {
        case UInt8(ascii: "1"): isHTTP10 = false
        case UInt8(ascii: "0"): isHTTP10 = true
        default: throw .unsupportedVersion(printable(Array(full[0..<8])))
        }
        var status = 0
        for byte in full[9..<12] {
            guard byte >= 0x30 && byte <= 0x39 else { throw .malformedStatusLine(text) }
            status = status * 10 + Int(byte - 0x30)
        }
        guard status >= 100 else { throw .malformedStatusLine(text) }
        response.status = status
        response.reason = full.count > 13 ? String(decoding: full[13...], as: UTF8.self) : ""
        response.closesConnection = isHTTP10
        state = .headers
    }

    /// Rejects lines that are not `token ":" value` (including obsolete folding).
    func checkHeaderLine(_ full: [UInt8]) throws(HTTPParseError) -> Int {
        guard let colon = full.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw .malformedHeader(printable(full))
        }
        for byte in full[0..<colon] where !isTokenByte(byte) { throw .malformedHeader(printable(full)) }
        return colon
    }

    mutating func parseHeader(_ full: [UInt8]) throws(HTTPParseError) {
        let colon = try checkHeaderLine(full)
        guard response.headers.count < limits.maxHeaderCount else { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
        var value = full[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
        response.headers.append((name: String(decoding: full[0..<colon], as: UTF8.self),
                                 value: String(decoding: value, as: UTF8.self)))
    }

    /// Decides the body framing (RFC 9112 §6.3).
    mutating func endOfHeaders() throws(HTTPParseError) {
        if response.status < 200 && response.status != 101 {
            response.headers.removeAll()
            headerBytes = 0
            state = .statusLine
            return
        }
        var contentLength: Int?
        var chunked = false
        for (name, value) in response.headers {
            switch name.lowercased() {
            case "content-length":
                guard !value.isEmpty, value.utf8.count <= 15, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let length = Int(value) else { throw .invalidContentLength(value) }
                if let contentLength, contentLength != length { throw .conflictingContentLength }
                contentLength = length
            case "transfer-encoding":
                chunked = value.lowercased().split(separator: ",").last.map { SLSSigner.trim(String($0)) == "chunked" }
                    ?? false
            case "connection":
                let tokens = value.lowercased().split(separator: ",").map { SLSSigner.trim(String($0)) }
                if tokens.contains("close") { response.closesConnection = true }
                if isHTTP10 && tokens.contains("keep-alive") { response.closesConnection = false }
            default: break
            }
        }
        if response.status == 204 || response.status == 304 || response.status == 101 {
            state = .complete
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            guard contentLength <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            state = contentLength == 0 ? .complete : .fixedBody(remaining: contentLength)
        } else {
            response.closesConnection = true
            state = .untilClose
        }
    }

    /// `1a3;ext=1`
    mutating func parseChunkSize(_ full: [UInt8]) throws(HTTPParseError) {
        var digits = full[...]
        if let semicolon = digits.firstIndex(of: UInt8(ascii: ";")) { digits = digits[..<semicolon] }
        while let last = digits.last, last == 0x20 || last == 0x09 { digits.removeLast() }
        guard !digits.isEmpty, digits.count <= 15 else { throw .invalidChunkSize(printable(full)) }
        var size = 0
        for byte in digits {
            guard let digit = hexValue(byte) else { throw .invalidChunkSize(printable(full)) }
            size = size * 16 + digit
        }
        if size == 0 {
            headerBytes = 0
            state = .trailers
            return
        }
        guard response.body.count + size <= limits.maxBodyBytes else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        state = .chunkData(remaining: size)
    }
}

func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: return Int(byte - 0x30)
    case 0x41...0x46: return Int(byte - 0x41 + 10)
    case 0x61...0x66: return Int(byte - 0x61 + 10)
    default: return nil
    }
}

/// RFC 9110 tchar: the bytes a method or header name may contain (the request parser shares it).
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
    default: return false
    }
}

/// A short, printable rendering of bytes for error messages (at most 64 bytes, others as '?').
func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    String(decoding: bytes.prefix(64).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
}
