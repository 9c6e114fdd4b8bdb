// WatchStreamDecoder.swift
//
// Turns the bytes of a Kubernetes watch response, as they arrive, into its status and then one JSON line
// per event: the head (status line and headers), then the chunked body (or a Content-Length or
// read-until-close body, for an error answer), split on '\n'. Owns that framing and its limits; does not
// own the socket (WatchStream) or what an event means (WatchEvent).
//
//   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + "1c\r\n{\"type\":\"ADDED\",\"object\":{}}\n\r\n"
//     -> head 200, then the line {"type":"ADDED","object":{}}

/// What the watch response's bytes could not be read as.
public struct WatchStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problem: String
    public var description: String { "watch response: \(problem)" }
}

public struct WatchStreamDecoder {
    public struct Head: Equatable, Sendable {
        public var status: Int
        public var reason: String
    }

    enum Phase {
        case head
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case fixed(remaining: Int)
        case untilClose
        case finished
    }

    /// The longest event line kept (an AliyunLogConfig with a large inputDetail is a few KiB).
    public let maxLineBytes: Int
    private var phase = Phase.head
    private var pending: [UInt8] = []
    private var line: [UInt8] = []
    /// The head's headers, names lower-cased.
    private var headers: [(String, String)] = []
    public private(set) var head: Head?

    public init(maxLineBytes: Int = 4 << 20) { self.maxLineBytes = maxLineBytes }

    /// True once the body's end arrived (the last chunk, or all Content-Length bytes).
    public var isFinished: Bool { if case .finished = phase { true } else { false } }

    /// Feeds bytes; `deliver` gets each complete body line (without its '\n').
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, deliver: ([UInt8]) -> Void) throws(WatchStreamError) {
        var index = 0
        while index < bytes.count {
            switch phase {
            case .head, .chunkSize, .chunkDataEnd:
                let byte = bytes[index]
                index += 1
                pending.append(byte)
                guard pending.count <= 64 << 10 else { throw WatchStreamError(problem: "a header or chunk line is too long") }
                if byte == 0x0A { try endOfLine(deliver) }
            case .chunkData(let remaining), .fixed(let remaining):
                let take = min(remaining, bytes.count - index)
                try body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]), deliver)
                index += take
                if case .chunkData = phase {
                    phase = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                } else if remaining == take {
                    try finish(deliver)
                } else {
                    phase = .fixed(remaining: remaining - take)
                }
            case .untilClose:
                try body(UnsafeRawBufferPointer(rebasing: bytes[index...]), deliver)
                index = bytes.count
            case .finished:
                return
            }
        }
    }

    /// The peer closed: a read-until-close body ends here; anything else was cut short.
    public mutating func close(deliver: ([UInt8]) -> Void) throws(WatchStreamError) {
        switch phase {
        case .untilClose: try finish(deliver)
        case .finished: return
        case .head: throw WatchStreamError(problem: "closed before the response head")
        default: throw WatchStreamError(problem: "closed in the middle of the body")
        }
    }

    private mutating func endOfLine(_ deliver: ([UInt8]) -> Void) throws(WatchStreamError) {
        var text = pending
        pending.removeAll(keepingCapacity: true)
        while let last = text.last, last == 0x0A || last == 0x0D { text.removeLast() }
        switch phase {
        case .head: try headLine(text)
        case .chunkDataEnd:
            guard text.isEmpty else { throw WatchStreamError(problem: "chunk data not followed by CRLF") }
            phase = .chunkSize
        case .chunkSize:
            let digits = text.prefix { $0 != UInt8(ascii: ";") }
            guard !digits.isEmpty, digits.count <= 8 else { throw WatchStreamError(problem: "bad chunk size") }
            var size = 0
            for digit in digits {
                guard let value = hexValue(digit) else { throw WatchStreamError(problem: "bad chunk size") }
                size = size * 16 + value
            }
            if size == 0 { try finish(deliver) } else { phase = .chunkData(remaining: size) }
        default: break
        }
    }

    private mutating func headLine(_ text: [UInt8]) throws(WatchStreamError) {
        if head == nil {
            let words = String(decoding: text, as: UTF8.self).split(separator: " ", maxSplits: 2)
            guard words.count >= 2, words[0].hasPrefix("HTTP/1."), let status = Int(words[1]) else {
                throw WatchStreamError(problem: "malformed status line \"\(printable(text.prefix(80)))\"")
            }
            head = Head(status: status, reason: words.count > 2 ? String(words[2]) : "")
            return
        }
        guard text.isEmpty else {
            let header = String(decoding: text, as: UTF8.self)
            guard let colon = header.firstIndex(of: ":") else { throw WatchStreamError(problem: "malformed header") }
            headers.append((header[..<colon].lowercased(), String(String(header[header.index(after: colon)...]).trimmingWhitespace)))
            return
        }
        if let status = head?.status, (100..<200).contains(status) {
            head = nil
            headers = []
            return
        }
        if headers.contains(where: { $0.0 == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            phase = .chunkSize
        } else if let text = headers.first(where: { $0.0 == "content-length" })?.1 {
            guard let length = Int(text), length >= 0, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw WatchStreamError(problem: "Content-Length \"\(printable(Array(text.utf8)))\" is not a byte count")
            }
            phase = length == 0 ? .finished : .fixed(remaining: length)
        } else {
            phase = .untilClose
        }
    }

    private mutating func body(_ bytes: UnsafeRawBufferPointer, _ deliver: ([UInt8]) -> Void) throws(WatchStreamError) {
        for byte in bytes {
            if byte == 0x0A {
                if !line.isEmpty { deliver(line) }
                line.removeAll(keepingCapacity: true)
                continue
            }
            line.append(byte)
            guard line.count <= maxLineBytes else { throw WatchStreamError(problem: "an event longer than \(maxLineBytes) bytes") }
        }
    }

    private mutating func finish(_ deliver: ([UInt8]) -> Void) throws(WatchStreamError) {
        if !line.isEmpty, line.contains(where: { $0 != 0x20 && $0 != 0x0D }) { deliver(line) }
        line.removeAll()
        phase = .finished
    }
}
