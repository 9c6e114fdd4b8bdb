// RegexFilter.swift
//
// Logtail `filterKey`/`filterRegex` and iLogtail `processor_filter_regex_native`: a record is kept when
// every Include pair's field exists and its whole value matches the regex, and no Exclude pair's field
// matches. Owns the decision and its counters; matching belongs to TailcarRegex.

import TailcarRegex

public final class RegexFilter: EventProcessor {
    private struct Rule {
        let key: Int
        let matcher: RegexMatcher
    }

    private let include: [Rule]
    private let exclude: [Rule]
    private var captures: [Int]
    /// Records dropped because an Include pair did not match or an Exclude pair did.
    public private(set) var dropped = 0

    public init(table: KeyTable, include: [(key: String, regex: CompiledRegex)],
                exclude: [(key: String, regex: CompiledRegex)]) {
        self.include = include.map { Rule(key: table.intern($0.key), matcher: RegexMatcher($0.regex)) }
        self.exclude = exclude.map { Rule(key: table.intern($0.key), matcher: RegexMatcher($0.regex)) }
        let slots = (include + exclude).map(\.regex.captureSlots).max() ?? 2
        captures = [Int](repeating: -1, count: slots)
    }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        for rule in include where !matches(rule, group) {
            dropped += 1
            return .drop
        }
        for rule in exclude where matches(rule, group) {
            dropped += 1
            return .drop
        }
        return .keep
    }

    private func matches(_ rule: Rule, _ group: EventGroup) -> Bool {
        guard let index = SourceFieldRunner.find(rule.key, in: group) else { return false }
        return group.withBytes(group.fields[index].value) { value in
            captures.withUnsafeMutableBufferPointer { rule.matcher.matchWhole(value, captures: $0) } == .matched
        }
    }
}
