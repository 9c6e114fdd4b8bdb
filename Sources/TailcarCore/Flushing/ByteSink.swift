// ByteSink.swift
//
// An append-only byte buffer in memory it owns, for writers that append a few bytes at a time (JSON lines):
// an append is a bounds-free store after one `reserve` per string, where `[UInt8]` would check uniqueness
// and count references on every append. Owns its memory; what is written is the writer's.

import Glibc

struct ByteSink: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 64 << 10) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func removeAll() { count = 0 }

    /// Makes room for `more` bytes: the appends after it need no check of their own.
    @inline(__always)
    mutating func reserve(_ more: Int) {
        if count + more > capacity { grow(to: count + more) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = newCapacity
    }

    /// After `reserve`.
    @inline(__always)
    mutating func append(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// After `reserve`.
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        memcpy(base + count, source, bytes.count)
        count += bytes.count
    }

    /// Reserves and appends.
    mutating func appendReserving(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        append(bytes)
    }

    /// Reserves and appends a literal.
    mutating func appendReserving(_ text: StaticString) {
        appendReserving(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Reserves and appends `value` in decimal.
    mutating func appendDecimal(_ value: UInt64) {
        var length = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        reserve(length)
        rest = value
        for position in stride(from: count + length - 1, through: count, by: -1) {
            base[position] = UInt8(truncatingIfNeeded: 0x30 &+ rest % 10)
            rest /= 10
        }
        count += length
    }
}
