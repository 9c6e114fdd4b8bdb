// HTTPRequestWriter.swift
//
// Serialises an HTTP/1.1 request (request line, headers, body) into a reused buffer, ready for one
// write. Owns the wire text of a request; does not own which headers a request carries (PutLogsRequest).
//
//   POST /logstores/app/shards/lb HTTP/1.1\r\n
//   Host: proj.cn-hangzhou.log.aliyuncs.com\r\n
//   ...\r\n
//   \r\n
//   <body>

public struct HTTPRequestWriter {
    public private(set) var bytes: [UInt8] = []

    public init(initialCapacity: Int = 64 * 1024) { bytes.reserveCapacity(initialCapacity) }

    /// Replaces the buffer's content with the request. Header names and values must not contain CR or
    /// LF (a programming error: they come from configuration checked earlier); this traps on them.
    public mutating func write(method: String, target: String, headers: [(name: String, value: String)],
                               body: UnsafeRawBufferPointer) {
        bytes.removeAll(keepingCapacity: true)
        append(method)
        bytes.append(0x20)
        append(target)
        append(" HTTP/1.1")
        crlf()
        for header in headers {
            append(header.name)
            append(": ")
            append(header.value)
            crlf()
        }
        crlf()
        bytes.append(contentsOf: body)
    }

    /// A signed PutLogs request with its body.
    public mutating func write(_ request: PutLogsRequest, body: UnsafeRawBufferPointer) {
        write(method: request.method, target: request.path, headers: request.headers, body: body)
    }

    private mutating func crlf() { bytes.append(contentsOf: [0x0D, 0x0A]) }

    private mutating func append(_ text: String) {
        for byte in text.utf8 {
            precondition(byte != 0x0D && byte != 0x0A, "CR or LF inside an HTTP request line or header")
            bytes.append(byte)
        }
    }
}
