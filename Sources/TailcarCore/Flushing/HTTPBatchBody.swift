// HTTPBatchBody.swift
//
// A sealed body of flusher_otlp or flusher_clickhouse: the encoded (and maybe compressed) bytes,
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
    /// Whether the body went through the format's compressor (gzip, or ClickHouse's blocks); false when
    /// the format sends raw bytes, or compressing failed.
    let isCompressed: Bool

    var count: Int { block.capacity - Self.headroom }

    /// The body's bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: block.base + Self.headroom, count: count) }

    /// A body holding a copy of `bytes`.
    init(copying bytes: UnsafeRawBufferPointer, rawSize: Int, isCompressed: Bool) {
        block = OutgoingBytes(capacity: Self.headroom + bytes.count)
        if let source = bytes.baseAddress { (block.base + Self.headroom).copyMemory(from: source, byteCount: bytes.count) }
        self.rawSize = rawSize
        self.isCompressed = isCompressed
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

    /// The body for `raw`: compressed through `compressor` when given, else copied as it is. A compression
    /// failure (never expected: the scratch is sized by the bound) sends the raw bytes and returns why.
    func seal<Codec: HTTPBodyCompressor>(_ raw: UnsafeRawBufferPointer,
                                         with compressor: Codec?) -> (body: HTTPBatchBody, failure: Codec.Failure?) {
        guard let compressor else { return (HTTPBatchBody(copying: raw, rawSize: raw.count, isCompressed: false), nil) }
        let out = reserve(compressor.bound(forInput: raw.count))
        do throws(Codec.Failure) {
            let count = try compressor.compress(raw, into: out)
            return (HTTPBatchBody(copying: UnsafeRawBufferPointer(rebasing: out[0..<count]), rawSize: raw.count,
                                  isCompressed: true), nil)
        } catch {
            return (HTTPBatchBody(copying: raw, rawSize: raw.count, isCompressed: false), error)
        }
    }
}

/// A whole-body compressor an HTTP batch format seals with: gzip, or ClickHouse's compressed blocks.
protocol HTTPBodyCompressor: AnyObject {
    associatedtype Failure: Error
    /// The most bytes `compress` may write for `inputBytes` of input.
    func bound(forInput inputBytes: Int) -> Int
    /// Compresses `input` into `destination` (at least `bound(forInput:)` bytes); returns the size written.
    func compress(_ input: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(Failure) -> Int
}

extension GzipCompressor: HTTPBodyCompressor {}
