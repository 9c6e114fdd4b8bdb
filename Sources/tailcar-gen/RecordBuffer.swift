// RecordBuffer.swift
//
// A large reusable byte buffer that formatters append records into, then hand to the sink in one
// write(2). Owns the bytes and the append primitives (bytes, decimals, fixed-width decimals, padding);
// does not own files, rotation or pacing. Callers guarantee room with `hasRoom(for:)` before a record.

import Glibc

struct RecordBuffer: ~Copyable {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) func hasRoom(for size: Int) -> Bool { capacity - count >= size }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ phrase: Phrase) {
        memcpy(base + count, phrase.start, phrase.count)
        count += phrase.count
    }

    @inline(__always)
    mutating func append(_ start: UnsafePointer<UInt8>, count size: Int) {
        memcpy(base + count, start, size)
        count += size
    }

    /// Appends `value` in decimal with at least `width` digits, zero-padded: (7, 3) -> "007".
    @inline(__always)
    mutating func appendDecimal(_ value: UInt64, width: Int = 1) {
        var digits = 1
        var probe = value
        while probe >= 10 { probe /= 10; digits += 1 }
        let total = Swift.max(digits, width)
        var cursor = count + total
        var rest = value
        for _ in 0..<total {
            cursor -= 1
            base[cursor] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            rest /= 10
        }
        count += total
    }

    @inline(__always)
    mutating func appendDecimal(_ value: Int, width: Int = 1) {
        appendDecimal(UInt64(value), width: width)
    }

    /// Inserts `size` bytes of `filler` at `offset`, shifting the bytes after it right:
    /// "a=1 b=2\n" with offset 3 and filler "xyz" -> "a=1xyz b=2\n".
    mutating func insert(_ filler: UnsafePointer<UInt8>, count size: Int, at offset: Int) {
        let tail = count - offset
        memmove(base + offset + size, base + offset, tail)
        memcpy(base + offset, filler, size)
        count += size
    }
}

/// A byte string owned by a `Vocabulary` arena; valid for the life of the process.
struct Phrase {
    let start: UnsafePointer<UInt8>
    let count: Int
}
