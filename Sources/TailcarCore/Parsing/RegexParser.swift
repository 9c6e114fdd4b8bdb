// RegexParser.swift
//
// Logtail `common_reg_log` / iLogtail `processor_parse_regex_native`: the whole source value must match
// the regex (boost regex_match, as Logtail does); capture i becomes key i. A group that did not take part
// in the match yields no field. Owns the capture-to-key mapping; matching belongs to TailcarRegex and the
// unmatched policy to SourcePolicy.

import TailcarRegex

public final class RegexParser: EventProcessor {
    public private(set) var counters = ParserCounters()

    private var runner: SourceFieldRunner
    private let matcher: RegexMatcher
    private let keyIndexes: [Int]
    private var captures: [Int]
    /// Whole-record matches that ran out of their step budget (counted as unmatched too).
    public private(set) var budgetExceeded = 0

    /// Fails when the keys do not name the capture groups one for one (Logtail would silently misname or
    /// drop fields; a configuration error that says so is kinder).
    public init(table: KeyTable, sourceKey: String = "content", regex: CompiledRegex, keys: [String],
                policy: SourcePolicy) throws(ParserConfigError) {
        guard !keys.isEmpty else { throw .noKeys(parser: "regex") }
        guard keys.count == regex.captureCount else {
            throw .keyCountMismatch(groups: regex.captureCount, keys: keys)
        }
        matcher = RegexMatcher(regex)
        keyIndexes = keys.map { table.intern($0) }
        captures = [Int](repeating: -1, count: 2 * (regex.captureCount + 1))
        runner = SourceFieldRunner(sourceKey: table.intern(sourceKey), policy: policy)
    }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        runner.run(group, counters: &counters) { raw, staging in match(raw, &staging) }
    }

    private func match(_ raw: UnsafeRawBufferPointer, _ staging: inout FieldStaging) -> Bool {
        let result = captures.withUnsafeMutableBufferPointer { matcher.matchWhole(raw, captures: $0) }
        switch result {
        case .matched: break
        case .noMatch: return false
        case .budgetExceeded: budgetExceeded += 1; return false
        }
        for (index, key) in keyIndexes.enumerated() {
            let start = captures[2 * (index + 1)], end = captures[2 * (index + 1) + 1]
            guard start >= 0, end >= start else { continue }
            staging.add(.table(key), .source(start..<end))
        }
        return true
    }
}
