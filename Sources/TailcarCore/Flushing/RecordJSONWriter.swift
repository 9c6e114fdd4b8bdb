// RecordJSONWriter.swift
//
// One JSON object per record, for flusher_stdout and flusher_file:
//
//   {"__time__":1732668000,"__time_ns__":5,"__path__":"/l/a.log","__topic__":"t","content":"GET /",
//    "__tag__:_pod_name_":"web-1"}
//
// `__time_ns__` only when non-zero, `__topic__` only when non-empty. Strings are escaped losslessly for any
// bytes: valid UTF-8 is copied as it is; `"` and `\` are escaped; control bytes become \n \r \t \b \f or
// \u00XX (NUL is \u0000); each byte of an invalid UTF-8 sequence becomes \udcXX, where XX is the byte:
// Python's "surrogateescape", so `json.loads(s)` then `.encode("utf-8", "surrogateescape")` gives back the
// original bytes exactly. Owns the format; writing it out is the flusher's.

public enum RecordJSONWriter {
    public static func append(_ group: EventGroup, to out: inout [UInt8]) {
        var path: [UInt8] = []
        var prefix: [UInt8] = []
        for record in group.records {
            out.append(contentsOf: #"{"__time__":"#.utf8)
            appendDecimal(UInt64(record.seconds), to: &out)
            if record.nanoseconds != 0 {
                out.append(contentsOf: #","__time_ns__":"#.utf8)
                appendDecimal(UInt64(record.nanoseconds), to: &out)
            }
            if path.isEmpty {
                path.append(contentsOf: #","__path__":"#.utf8)
                appendString(group.source.path, to: &path)
                if !group.source.topic.isEmpty {
                    path.append(contentsOf: #","__topic__":"#.utf8)
                    appendString(group.source.topic, to: &path)
                }
            }
            out.append(contentsOf: path)
            for field in group.fields[record.fields] {
                out.append(0x2C)
                group.withKeyBytes(field.key) { appendString($0, to: &out) }
                out.append(0x3A)
                group.withBytes(field.value) { appendString($0, to: &out) }
            }
            if prefix.isEmpty, !group.source.tags.isEmpty {
                for tag in group.source.tags {
                    prefix.append(0x2C)
                    appendString("__tag__:" + tag.key, to: &prefix)
                    prefix.append(0x3A)
                    appendString(tag.value, to: &prefix)
                }
            }
            out.append(contentsOf: prefix)
            out.append(contentsOf: "}\n".utf8)
        }
    }

    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var copy = text
        copy.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// A JSON string literal, quotes included, for arbitrary bytes.
    public static func appendString(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x22)
        var runStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte >= 0x20, byte != 0x22, byte != 0x5C, byte < 0x80 {
                index += 1
                continue
            }
            if byte >= 0x80, let length = validSequenceLength(bytes, at: index) {
                index += length
                continue
            }
            if runStart < index { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])) }
            escape(byte, to: &out)
            index += 1
            runStart = index
        }
        if runStart < count { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<count])) }
        out.append(0x22)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func escape(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: out.append(contentsOf: [0x5C, 0x72])
        case 0x09: out.append(contentsOf: [0x5C, 0x74])
        case 0x08: out.append(contentsOf: [0x5C, 0x62])
        case 0x0C: out.append(contentsOf: [0x5C, 0x66])
        default:
            // Control bytes as \u00XX; bytes of invalid UTF-8 as the lone surrogate \udcXX.
            out.append(contentsOf: byte < 0x80 ? Array(#"\u00"#.utf8) : Array(#"\udc"#.utf8))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF), or nil.
    private static func validSequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { return nil }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return nil }
        return length
    }

    private static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var rest = value
        repeat {
            out.append(UInt8(0x30 + rest % 10))
            rest /= 10
        } while rest > 0
        out[start...].reverse()
    }
}
