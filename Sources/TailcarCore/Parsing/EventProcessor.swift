// EventProcessor.swift
//
// The contract every per-record stage follows (parsers here, filters elsewhere), the counters parsers
// expose for metrics, and the typed error their configuration can raise. Owns no parsing itself.

/// One stage applied to every record. The runtime opens a record with the raw line as field `content`
/// (key .table(keys.content), value = the raw bytes in the arena), runs each processor in order, then commits
/// or abandons the record. Processors rewrite the open record's fields in place (group.openFields).
public protocol EventProcessor: AnyObject {
    func process(_ group: EventGroup) -> ProcessOutcome

    /// `process` on an instance of `Self` held unretained: a call through the type's witness that costs no
    /// reference count, for the runtime's per-record loop (calling through `any EventProcessor` retains
    /// and releases the processor each time). The default implementation is the one to use.
    static func process(unretained processor: Unmanaged<AnyObject>, _ group: EventGroup) -> ProcessOutcome
}

extension EventProcessor {
    /// `processor` must be an instance of `Self`, kept alive by its owner for the duration of the call.
    public static func process(unretained processor: Unmanaged<AnyObject>, _ group: EventGroup) -> ProcessOutcome {
        processor._withUnsafeGuaranteedRef { unsafeDowncast($0, to: Self.self).process(group) }
    }
}

public enum ProcessOutcome: Sendable { case keep, drop }

/// What a field parser did with the records it saw; the runtime reads these for metrics.
public struct ParserCounters: Sendable, Equatable {
    /// Records whose source field parsed.
    public var parsed: Int = 0
    /// Records whose source field did not parse (kept or dropped, see `droppedUnmatched`).
    public var unmatched: Int = 0
    /// Unmatched records dropped because the policy keeps no source and nothing else remained.
    public var droppedUnmatched: Int = 0
    /// Records without the source field; passed on untouched.
    public var sourceMissing: Int = 0

    public init() {}
}

/// A parser's configuration that cannot work, found when the pipeline is built.
public enum ParserConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptySeparator
    /// iLogtail accepts separators of 1 to 4 bytes.
    case separatorTooLong(String)
    case noKeys(parser: String)
    /// A `%` directive the time parser does not know, or a lone `%` at the end.
    case unknownTimeDirective(format: String, offset: Int)
    case invalidTimezone(String)
    /// The pattern does not compile (the engine's message names the construct and its position).
    case badRegex(field: String, message: String)
    /// A regex parser's keys must name its capture groups one for one.
    case keyCountMismatch(groups: Int, keys: [String])

    public var description: String {
        switch self {
        case .emptySeparator: return "the separator is empty"
        case .separatorTooLong(let separator): return "separator \"\(separator)\" is longer than 4 bytes"
        case .noKeys(let parser): return "the \(parser) parser needs at least one key"
        case .unknownTimeDirective(let format, let offset):
            return "time format \"\(format)\": unknown directive at character \(offset)"
        case .invalidTimezone(let zone): return "time zone \"\(zone)\" is not GMT+HH:MM, UTC-HH:MM or +HHMM"
        case .badRegex(let field, let message): return "\(field): \(message)"
        case .keyCountMismatch(let groups, let keys):
            return "the regex has \(groups) capture groups but \(keys.count) keys are given"
                + (keys.isEmpty ? "" : " (last key: \"\(keys[keys.count - 1])\")")
        }
    }
}

/// A processor that counts what it could not parse; tools use the counts to mark records.
public protocol CountingProcessor: EventProcessor {
    var unmatchedCount: Int { get }
}

extension JSONParser: CountingProcessor {
    public var unmatchedCount: Int { counters.unmatched }
}

extension DelimiterParser: CountingProcessor {
    public var unmatchedCount: Int { counters.unmatched }
}

extension ApsaraParser: CountingProcessor {
    public var unmatchedCount: Int { counters.unmatched }
}

extension RegexParser: CountingProcessor {
    public var unmatchedCount: Int { counters.unmatched }
}

extension TimestampParser: CountingProcessor {
    public var unmatchedCount: Int { counters.fallback }
}
