// ProtobufWriter.swift
//
// A minimal protobuf wire-format writer for the OTLP encoder: varints, fixed64, length-delimited bytes and
// nested messages whose length is patched in when they end (one byte reserved; a longer length shifts the
// message's bytes once). Owns the wire format only; the OTLP field layout is OTLPLogsEncoder's.

struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64 << 10) { bytes.reserveCapacity(capacity) }

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Field number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    mutating func key(_ field: Int, wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, wireType: 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func varintField(_ field: Int, _ value: UInt64) {
        key(field, wireType: 0)
        varint(value)
    }

    mutating func bytesField(_ field: Int, _ value: UnsafeRawBufferPointer) {
        key(field, wireType: 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func stringField(_ field: Int, _ value: String) {
        var value = value
        value.withUTF8 { bytesField(field, UnsafeRawBufferPointer($0)) }
    }

    /// Opens a nested message; pass the result to `end`.
    mutating func begin(_ field: Int) -> Int {
        key(field, wireType: 2)
        bytes.append(0)
        return bytes.count - 1
    }

    /// Closes the message opened at `mark`, writing its length; a length of two or more varint bytes moves
    /// the message's bytes up in place (no allocation).
    mutating func end(_ mark: Int) {
        let length = bytes.count - mark - 1
        if length < 0x80 {
            bytes[mark] = UInt8(length)
            return
        }
        var extra = 1
        while length >> (7 * (extra + 1)) != 0 { extra += 1 }
        for _ in 0..<extra { bytes.append(0) }
        bytes.withUnsafeMutableBytes { buffer in
            let base = buffer.baseAddress!
            (base + mark + 1 + extra).copyMemory(from: base + mark + 1, byteCount: length)
            var value = length
            var at = mark
            while value >= 0x80 {
                base.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: at, as: UInt8.self)
                value >>= 7
                at += 1
            }
            base.storeBytes(of: UInt8(value), toByteOffset: at, as: UInt8.self)
        }
    }
}

/// Whether `bytes` are valid UTF-8 (protobuf `string` fields must be; other bytes go as `bytes_value`).
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var ascii = true
    for byte in bytes where byte >= 0x80 {
        ascii = false
        break
    }
    if ascii { return true }
    return String(validating: bytes, as: UTF8.self) != nil
}
