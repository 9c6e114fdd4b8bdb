// ReadBuffer.swift
//
// The one read buffer an agent reads every file into, reused for every read. A file's unconsumed tail
// (an incomplete line) is kept by its tailer as `carry` and copied back to the front before the next read:
//
//   carry "GET /c"  +  read "?x=1\nGET /d\n"   ->   window "GET /c?x=1\nGET /d\n"
//
// Owns the memory; does not own splitting or file state.

public final class ReadBuffer {
    public let capacity: Int
    let base: UnsafeMutableRawPointer
    /// Bytes valid from `base`: the carried tail plus what the last read added.
    var count = 0

    /// `readChunk` bytes are read at a time; the buffer also holds a carried tail of up to `maxCarry` bytes.
    public init(readChunk: Int, maxCarry: Int) {
        capacity = readChunk + maxCarry
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    var window: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    var free: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count)
    }

    /// Starts a read cycle with `carry` at the front.
    func load(carry: [UInt8]) {
        count = carry.count
        carry.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { base.copyMemory(from: source, byteCount: bytes.count) }
        }
    }
}
