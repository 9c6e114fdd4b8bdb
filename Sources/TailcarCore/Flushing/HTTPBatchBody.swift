// HTTPBatchBody.swift
//
// A sealed body of flusher_otlp or flusher_clickhouse: the encoded (and maybe gzip-compressed) bytes,
// copied once from the compressor's scratch into the block that is later written to the socket, behind
// headroom for the request line and headers, so sending (and each retry) writes only the head. Owns the
// block and the scratch a format compresses into; does not own the wire format (the formats) or delivery.

import Glibc

struct HTTPBatchBody {
    /// Room for the request line and headers (custom headers, a token, ClickHouse's query target).
    static let headroom = 4096

    var block: OutgoingBytes
    /// Encoded size before compression.
    let rawSize: Int
    /// Whether the body is a gzip member (`Content-Encoding: gzip`).
    let isGzip: Bool

    var count: Int { block.capacity - Self.headroom }

    /// The body's bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: block.base + Self.headroom, count: count) }

    /// A body holding a copy of `bytes`.
    init(copying bytes: UnsafeRawBufferPointer, rawSize: Int, isGzip: Bool) {
        block = OutgoingBytes(capacity: Self.headroom + bytes.count)
        if let source = bytes.baseAddress { (block.base + Self.headroom).copyMemory(from: source, byteCount: bytes.count) }
        self.rawSize = rawSize
        self.isGzip = isGzip
    }

    /// Writes `head` right before the body and returns the block ready to send; a head larger than the
    /// headroom gets a new block with both (a copy, and never expected).
    func request(head: UnsafeRawBufferPointer) -> OutgoingBytes {
        guard head.count <= Self.headroom else {
            let whole = OutgoingBytes(capacity: head.count + count)
            whole.base.copyMemory(from: head.baseAddress!, byteCount: head.count)
            (whole.base + head.count).copyMemory(from: block.base + Self.headroom, byteCount: count)
            whole.setStart(0)
            return whole
        }
        let start = Self.headroom - head.count
        (block.base + start).copyMemory(from: head.baseAddress!, byteCount: head.count)
        block.setStart(start)
        return block
    }
}

/// The reused buffer a format compresses into before the body's one copy into its block. Bound to one thread.
final class CompressionScratch {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0

    deinit { free(base) }

    /// At least `bytes` of scratch.
    func reserve(_ bytes: Int) -> UnsafeMutableRawBufferPointer {
        if bytes > capacity {
            free(base)
            capacity = max(bytes, 64 << 10)
            base = malloc(capacity)
        }
        return UnsafeMutableRawBufferPointer(start: base, count: bytes)
    }

    /// The body for `raw`: gzip-compressed through `gzip` when given, else copied as it is. A compression
    /// failure (never expected: the scratch is sized by the bound) sends the raw bytes and returns why.
    func seal(_ raw: UnsafeRawBufferPointer, gzip: GzipCompressor?) -> (body: HTTPBatchBody, failure: GzipError?) {
        guard let gzip else { return (HTTPBatchBody(copying: raw, rawSize: raw.count, isGzip: false), nil) }
        let out = reserve(gzip.bound(forInput: raw.count))
        do {
            let count = try gzip.compress(raw, into: out)
            return (HTTPBatchBody(copying: UnsafeRawBufferPointer(rebasing: out[0..<count]), rawSize: raw.count,
                                  isGzip: true), nil)
        } catch {
            return (HTTPBatchBody(copying: raw, rawSize: raw.count, isGzip: false), error)
        }
    }
}
