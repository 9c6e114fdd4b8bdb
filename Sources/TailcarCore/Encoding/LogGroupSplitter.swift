// LogGroupSplitter.swift
//
// Cuts an encoded SLS `LogGroup` in two at a log boundary, for a batch SLS refused as too large
// (PostBodyTooLarge): by then the flusher has given the records' memory back to the pipeline, so the
// halves are made from the body it sent. Each half keeps every non-log field (topic, source, tags) in
// place and its share of the `Logs` (field 1) in order. Owns the cut; reading the wire format is
// ProtobufReader's, encoding logs LogGroupEncoder's.

/// Why a LogGroup could not be split (never expected: the body is one Tailcar encoded itself).
public enum LogGroupSplitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end inside a field, or a varint runs past 10 bytes, at this offset.
    case truncated(offset: Int)
    /// A wire type proto2 does not define (3 and 4 are the deprecated groups, never in a LogGroup).
    case unsupportedWireType(Int, offset: Int)
    /// The body holds a different number of logs than the batch it belongs to.
    case logCount(expected: Int, found: Int)

    public var description: String {
        switch self {
        case .truncated(let offset): return "LogGroup bytes end inside a field at byte \(offset)"
        case .unsupportedWireType(let type, let offset): return "LogGroup field of wire type \(type) at byte \(offset)"
        case .logCount(let expected, let found): return "LogGroup holds \(found) logs, the batch \(expected)"
        }
    }
}

public enum LogGroupSplitter {
    /// The first `firstLogs` logs and the rest, each with every other field of `logGroup`.
    /// `totalLogs` is the batch's count, checked against the body.
    public static func split(_ logGroup: UnsafeRawBufferPointer, firstLogs: Int,
                             totalLogs: Int) throws(LogGroupSplitError) -> (first: [UInt8], second: [UInt8]) {
        let (fields, malformed) = ProtobufReader.scan(logGroup)
        switch malformed {
        case .truncated(let offset)?: throw .truncated(offset: offset)
        case .unsupportedWireType(let type, let offset)?: throw .unsupportedWireType(type, offset: offset)
        case nil: break
        }
        let logs = fields.reduce(0) { $0 + ($1.isLog ? 1 : 0) }
        guard logs == totalLogs else { throw .logCount(expected: totalLogs, found: logs) }
        var first: [UInt8] = []
        var second: [UInt8] = []
        var seen = 0
        for field in fields {
            let bytes = UnsafeRawBufferPointer(rebasing: logGroup[field.range])
            if field.isLog {
                if seen < firstLogs { first.append(contentsOf: bytes) } else { second.append(contentsOf: bytes) }
                seen += 1
            } else {
                first.append(contentsOf: bytes)
                second.append(contentsOf: bytes)
            }
        }
        return (first, second)
    }
}

private extension ProtobufReader.Field {
    /// A `Logs` entry (field 1, length-delimited).
    var isLog: Bool { number == 1 && wireType == 2 }
}
