// ProtobufReader.swift
//
// Reads the top level of a protobuf message: each field's number, wire type, where the whole field lies
// (tag included) and its value. Used leniently for an OTLP collector's answers (what decodes is kept) and
// strictly to cut an SLS LogGroup in two (LogGroupSplitter: a malformed byte is an error). Owns the wire
// format's framing; does not own what any field means.

enum ProtobufReader {
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    /// One top-level field: its number, wire type, bytes (tag included), and its value's bytes for a
    /// length-delimited field or its value for a varint.
    struct Field {
        var number: Int
        var wireType: Int
        var range: Range<Int>
        var payload: Range<Int>
        var varint: UInt64
    }

    /// Where a message stops being protobuf, and why.
    enum Malformed: Error, Equatable {
        /// The bytes end inside a field, or a varint runs past 10 bytes, at this offset.
        case truncated(offset: Int)
        /// A wire type proto2 does not define (3 and 4 are the deprecated groups), or field number 0.
        case unsupportedWireType(Int, offset: Int)
    }

    /// Every top-level field of `bytes`, and where (if anywhere) it stopped being readable.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> (fields: [Field], malformed: Malformed?) {
        var fields: [Field] = []
        var offset = 0
        while offset < bytes.count {
            let start = offset
            guard let key = varint(bytes, at: &offset) else { return (fields, .truncated(offset: start)) }
            let wireType = Int(key & 7)
            guard key >> 3 > 0 else { return (fields, .unsupportedWireType(wireType, offset: start)) }
            var payload = offset..<offset
            var value: UInt64 = 0
            switch wireType {
            case 0:
                let valueStart = offset
                guard let read = varint(bytes, at: &offset) else { return (fields, .truncated(offset: valueStart)) }
                value = read
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard width <= bytes.count - offset else { return (fields, .truncated(offset: start)) }
                offset += width
            case 2:
                guard let length = varint(bytes, at: &offset), length <= UInt64(bytes.count - offset) else {
                    return (fields, .truncated(offset: start))
                }
                payload = offset..<offset + Int(length)
                offset += Int(length)
            default:
                return (fields, .unsupportedWireType(wireType, offset: start))
            }
            fields.append(Field(number: Int(key >> 3), wireType: wireType, range: start..<offset, payload: payload,
                                varint: value))
        }
        return (fields, nil)
    }

    /// The fields of `bytes` up to the first malformed byte.
    static func fields(_ bytes: [UInt8]) -> [(number: Int, value: Value)] {
        let fields = bytes.withUnsafeBytes { scan($0).fields }
        return fields.map { field in
            switch field.wireType {
            case 0: return (field.number, .varint(field.varint))
            case 2: return (field.number, .bytes(bytes[field.payload]))
            default: return (field.number, .fixed)
            }
        }
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
