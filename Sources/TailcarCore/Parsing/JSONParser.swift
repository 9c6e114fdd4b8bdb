// JSONParser.swift
//
// Logtail `json_log` / iLogtail `processor_parse_json_native`: the source field holds one JSON object;
// each top-level member becomes a field. Owns the member-to-field rule; does not own JSON syntax
// (JSONScanner.swift) or the unmatched policy (SourcePolicy.swift).
//
// Fields, for {"a":"x\ty", "n": 1.50, "o": { "k" : [1, 2] }, "b":true}:
//   a = x<TAB>y   strings unescaped; copied to the arena only when they hold escapes
//   n = 1.50      numbers, true, false and null keep their text (rapidjson would re-print numbers)
//   o = {"k":[1,2]}   nested values as compact JSON: the original bytes when already compact, else the
//                     bytes without insignificant whitespace (string escapes are kept as written)
// Keys are arena keys: slices of the source, or unescaped into the arena when they hold escapes. Members
// keep their order; a repeated key gives two fields (iLogtail keeps the last). Anything but one object
// (arrays, scalars, truncated or invalid text, trailing bytes after the object) is unmatched.

public final class JSONParser: EventProcessor {
    public private(set) var counters = ParserCounters()

    private var runner: SourceFieldRunner
    /// The scanner's container stack, reused by every record.
    private let closers = UnsafeMutablePointer<UInt8>.allocate(capacity: JSONScanner.maxDepth)

    public init(table: KeyTable, sourceKey: String = "content", policy: SourcePolicy) {
        runner = SourceFieldRunner(sourceKey: table.intern(sourceKey), policy: policy)
    }

    deinit { closers.deallocate() }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        runner.run(group, counters: &counters) { raw, staging in parseObject(raw, &staging) }
    }

    /// Stages one field per member of the object in `raw`; false when `raw` is not exactly one object.
    func parseObject(_ raw: UnsafeRawBufferPointer, _ staging: inout FieldStaging) -> Bool {
        var scanner = JSONScanner(raw, closers: closers)
        _ = scanner.skipWhitespace()
        guard scanner.consume(0x7B) else { return false }
        _ = scanner.skipWhitespace()
        if !scanner.consume(0x7D) {
            repeat {
                _ = scanner.skipWhitespace()
                guard stageMember(&scanner, raw, &staging) else { return false }
                _ = scanner.skipWhitespace()
            } while scanner.consume(0x2C)
            guard scanner.consume(0x7D) else { return false }
        }
        _ = scanner.skipWhitespace()
        return scanner.atEnd
    }

    private func stageMember(_ scanner: inout JSONScanner, _ raw: UnsafeRawBufferPointer,
                             _ staging: inout FieldStaging) -> Bool {
        guard let key = scanner.scanString() else { return false }
        _ = scanner.skipWhitespace()
        guard scanner.consume(0x3A) else { return false }
        _ = scanner.skipWhitespace()
        guard let value = scanner.scanValue() else { return false }
        let stagedKey: StagedBytes
        if key.escaped {
            let mark = staging.mark
            guard staging.appendUnescaped(raw, key.range) else { return false }
            stagedKey = staging.written(since: mark)
        } else {
            stagedKey = .source(key.range)
        }
        let stagedValue: StagedBytes
        switch value.kind {
        case .string(escaped: true):
            let mark = staging.mark
            guard staging.appendUnescaped(raw, value.range) else { return false }
            stagedValue = staging.written(since: mark)
        case .container(compact: false):
            let mark = staging.mark
            staging.appendCompacted(raw, value.range)
            stagedValue = staging.written(since: mark)
        case .string(escaped: false), .container(compact: true), .scalar:
            stagedValue = .source(value.range)
        }
        staging.add(.bytes(stagedKey), stagedValue)
        return true
    }
}
