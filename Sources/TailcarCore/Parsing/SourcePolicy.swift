// SourcePolicy.swift
//
// What a parser does with its source field, shared by every field parser: find the source field in the
// open record, parse it, replace it with the parsed fields, and apply the unmatched-record policy. Owns the
// policy and the counting; does not own any format (the parsers pass a closure).
//
// Unmatched records, after Logtail and iLogtail (CommonParserOptions):
//   Logtail `discardUnmatch: true`        -> the source field is removed; a record left with no field is
//                                            dropped and counted (`droppedUnmatched`).
//   Logtail `discardUnmatch: false`       -> the raw value is kept under `__raw_log__`.
//   iLogtail KeepingSourceWhenParseFail   -> the raw value is kept under RenamedSourceKey (default: the
//                                            source key itself); false behaves like discardUnmatch.
//   iLogtail KeepingSourceWhenParseSucceed -> on success the raw value is also kept, under RenamedSourceKey.
// A kept source value is not copied: the new field points at the same arena bytes.

/// Where a parser keeps its source value; keys are `KeyTable` indexes, nil means "do not keep".
public struct SourcePolicy: Sendable, Equatable {
    public static let rawLogKeyName = "__raw_log__"

    public var keepOnFailure: Int?
    public var keepOnSuccess: Int?

    public init(keepOnFailure: Int?, keepOnSuccess: Int? = nil) {
        self.keepOnFailure = keepOnFailure
        self.keepOnSuccess = keepOnSuccess
    }

    /// Logtail's `discardUnmatch`: drop the unmatched record, or keep its raw text under `__raw_log__`.
    public static func logtail(discardUnmatch: Bool, keys: KeyTable) -> SourcePolicy {
        SourcePolicy(keepOnFailure: discardUnmatch ? nil : keys.intern(rawLogKeyName))
    }

    /// iLogtail's KeepingSourceWhenParseFail / KeepingSourceWhenParseSucceed / RenamedSourceKey.
    public static func ilogtail(keepingSourceWhenParseFail: Bool, keepingSourceWhenParseSucceed: Bool = false,
                                renamedSourceKey: String, keys: KeyTable) -> SourcePolicy {
        let renamed = keys.intern(renamedSourceKey)
        return SourcePolicy(keepOnFailure: keepingSourceWhenParseFail ? renamed : nil,
                            keepOnSuccess: keepingSourceWhenParseSucceed ? renamed : nil)
    }
}

/// Runs one parse of the open record's source field. Each parser owns one (it holds the reusable staging).
struct SourceFieldRunner: ~Copyable {
    let sourceKey: Int
    let policy: SourcePolicy
    private var staging = FieldStaging()

    init(sourceKey: Int, policy: SourcePolicy) {
        self.sourceKey = sourceKey
        self.policy = policy
    }

    /// The index of the open record's first field named `key`: a table key, or an arena key with the same
    /// bytes (a JSON member read by an earlier parser, e.g. Logtail's `timeKey` after `json_log`).
    static func find(_ key: Int, in group: EventGroup) -> Int? {
        for index in group.openFields {
            switch group.fields[index].key {
            case .table(let table):
                if table == key { return index }
            case .arena(let range):
                if names(key, range, in: group) { return index }
            }
        }
        return nil
    }

    /// Whether the arena bytes at `range` spell the table key `key`.
    private static func names(_ key: Int, _ range: ByteRange, in group: EventGroup) -> Bool {
        guard range.count == group.keys.names[key].count else { return false }
        return group.withBytes(range) { bytes in group.keys.withName(key) { $0.elementsEqual(bytes) } }
    }

    /// `parse` reads the source value (it must not append to the group) and stages fields; it returns false
    /// when the value does not parse, and its staged fields are then forgotten. When the staging was too
    /// small, it grows and `parse` runs again on the same value, so a parse must be repeatable. Inlined into
    /// each parser, so its `parse` is a direct call rather than a closure shared by every parser.
    @inline(__always)
    mutating func run(_ group: EventGroup, counters: inout ParserCounters,
                      parse: (UnsafeRawBufferPointer, inout FieldStaging) -> Bool) -> ProcessOutcome {
        guard let index = Self.find(sourceKey, in: group) else {
            counters.sourceMissing += 1
            return .keep
        }
        let source = group.fields[index].value
        var parsed: Bool
        repeat {
            staging.reset(sourceStart: source.start)
            parsed = group.withBytes(source) { parse($0, &staging) }
            guard parsed && staging.overflowed else { break }
            staging.grow()
        } while true
        group.removeOpenField(at: index)
        if parsed {
            counters.parsed += 1
            staging.commit(into: group)
            if let keep = policy.keepOnSuccess { group.addField(key: .table(keep), value: source) }
            return .keep
        }
        counters.unmatched += 1
        if let keep = policy.keepOnFailure {
            group.addField(key: .table(keep), value: source)
            return .keep
        }
        if group.openFields.isEmpty {
            counters.droppedUnmatched += 1
            return .drop
        }
        return .keep
    }
}
