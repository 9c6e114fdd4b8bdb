// ProtobufWriter.swift
//
// A minimal protobuf wire-format writer for the OTLP encoder: varints, fixed64, length-delimited bytes and
// nested messages whose length is patched in when they end, into one reused malloc'd buffer (the buffer
// the compressor then reads; unchecked stores after one capacity check per field). A nested message
// reserves as many length bytes as its expected length needs (one when not told), so the common case
// patches in place; a length of another width moves the message's bytes once. Owns the wire format only;
// the OTLP field layout is OTLPLogsEncoder's.

import Glibc

final class ProtobufWriter {
    /// Where a nested message's length goes: `width` bytes reserved at `offset`.
    struct Mark {
        let offset: Int
        let width: Int
    }

    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written.
    private(set) var count = 0

    init(capacity: Int = 64 << 10) {
        self.capacity = max(capacity, 64)
        base = malloc(self.capacity)!.assumingMemoryBound(to: UInt8.self)
    }

    deinit { free(base) }

    func reset() { count = 0 }

    /// A copy of the bytes written (tests).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The bytes written; the pointer must not escape `body`.
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Room for `extra` more bytes.
    @inline(__always)
    private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        capacity = max(needed, capacity * 2)
        base = realloc(base, capacity)!.assumingMemoryBound(to: UInt8.self)
    }

    /// The bytes a varint of `value` takes.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    /// Writes `value` as a varint at `count`; room for 10 bytes must be reserved.
    @inline(__always)
    private func storeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            base[count] = UInt8(truncatingIfNeeded: value) | 0x80
            count += 1
            value >>= 7
        }
        base[count] = UInt8(value)
        count += 1
    }

    func varint(_ value: UInt64) {
        reserve(10)
        storeVarint(value)
    }

    /// Field number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    func key(_ field: Int, wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    @inline(__always)
    func fixed64(_ field: Int, _ value: UInt64) {
        reserve(18)
        storeVarint(UInt64(field << 3 | 1))
        UnsafeMutableRawPointer(base + count).storeBytes(of: value.littleEndian, as: UInt64.self)
        count += 8
    }

    func varintField(_ field: Int, _ value: UInt64) {
        reserve(20)
        storeVarint(UInt64(field << 3))
        storeVarint(value)
    }

    @inline(__always)
    func bytesField(_ field: Int, _ value: UnsafeRawBufferPointer) {
        reserve(20 + value.count)
        storeVarint(UInt64(field << 3 | 2))
        storeVarint(UInt64(value.count))
        if let source = value.baseAddress { (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: value.count) }
        count += value.count
    }

    func stringField(_ field: Int, _ value: String) {
        var value = value
        value.withUTF8 { bytesField(field, UnsafeRawBufferPointer($0)) }
    }

    /// Opens a nested message expected to take about `expectedLength` bytes; pass the result to `end`.
    @inline(__always)
    func begin(_ field: Int, expectedLength: Int = 0) -> Mark {
        let width = Self.varintSize(UInt64(expectedLength))
        reserve(10 + width)
        storeVarint(UInt64(field << 3 | 2))
        let mark = Mark(offset: count, width: width)
        count += width
        return mark
    }

    /// Closes the message opened at `mark`, writing its length (its bytes move once when the length takes
    /// another number of bytes than were reserved).
    @inline(__always)
    func end(_ mark: Mark) {
        let start = mark.offset + mark.width
        let length = count - start
        let width = Self.varintSize(UInt64(length))
        if width != mark.width {
            if width > mark.width { reserve(width - mark.width) }
            memmove(base + mark.offset + width, base + start, length)
            count += width - mark.width
        }
        var value = UInt64(length)
        var at = mark.offset
        while value >= 0x80 {
            base[at] = UInt8(truncatingIfNeeded: value) | 0x80
            at += 1
            value >>= 7
        }
        base[at] = UInt8(value)
    }
}

/// Whether `bytes` are valid UTF-8 (protobuf `string` fields must be; other bytes go as `bytes_value`).
/// ASCII, the common case, is checked eight bytes at a time.
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let start = bytes.baseAddress else { return true }
    var high: UInt64 = 0
    var index = 0
    while index + 8 <= bytes.count {
        high |= start.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        index += 8
    }
    while index < bytes.count {
        high |= UInt64(start.load(fromByteOffset: index, as: UInt8.self))
        index += 1
    }
    if high & 0x8080_8080_8080_8080 == 0 { return true }
    return String(validating: bytes, as: UTF8.self) != nil
}
