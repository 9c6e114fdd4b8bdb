// OutgoingBytes.swift
//
// A request on its way to a socket: one malloc'd block whose bytes from `start` are sent. A flusher builds
// the body into it once (behind headroom for the request line and headers) and the TCP write keeps the
// block alive until libuv is done with it, so the body is never copied between compression and the kernel.
// Owns the block and its size as allocated (what the in-flight cap counts); does not own what the bytes say.

import CTailcarShim
import Glibc

public final class OutgoingBytes: @unchecked Sendable {
    /// The block; `capacity` bytes, of which `start..<capacity` are the request.
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    /// Where the request begins: the headers are written right before the body, ending at the body's start.
    public private(set) var start: Int

    /// A block of `capacity` bytes, uninitialised; the request starts at its end until `setStart`.
    public init(capacity: Int) {
        base = malloc(max(capacity, 1))!
        self.capacity = capacity
        start = capacity
    }

    /// A copy of `bytes` (callers that build a request as an array).
    public convenience init(copying bytes: [UInt8]) {
        self.init(capacity: bytes.count)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { base.copyMemory(from: source, byteCount: $0.count) } }
        start = 0
    }

    deinit { free(base) }

    /// Bytes the allocator holds for the block.
    public var allocatedBytes: Int { ctailcar_malloc_usable_size(base) }

    /// The request's bytes.
    public var request: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + start, count: capacity - start) }

    public func setStart(_ offset: Int) {
        precondition(offset >= 0 && offset <= capacity, "request start outside the block")
        start = offset
    }
}
