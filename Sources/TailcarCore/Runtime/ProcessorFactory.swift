// ProcessorFactory.swift
//
// Builds a pipeline's processors from their settings, interning every key into the pipeline's KeyTable.
// Owns the mapping from settings to parser classes and the Logtail/iLogtail source-field policy.

import TailcarRegex

enum ProcessorFactory {
    /// `localZone`: where a parser with no configured zone reads times without one (TZ; UTC by default).
    static func make(_ settings: [ProcessorSettings], pipeline: String, keys: KeyTable,
                     localZone: UTCOffset = .utc) throws(AgentError) -> [any EventProcessor] {
        var processors: [any EventProcessor] = []
        for (index, setting) in settings.enumerated() {
            do {
                processors.append(try make(setting, keys: keys, localZone: localZone))
            } catch {
                throw .processor(pipeline: pipeline, index: index, error.description)
            }
        }
        return processors
    }

    private static func make(_ setting: ProcessorSettings, keys: KeyTable, localZone: UTCOffset) throws(ParserConfigError) -> any EventProcessor {
        switch setting {
        case .burnCPU(let micros):
            return CPUBurner(microsecondsPerRecord: micros)
        case .parseJSON(let handling):
            return JSONParser(table: keys, sourceKey: handling.sourceKey, policy: policy(handling, keys))
        case let .parseDelimiter(handling, separator, quote, names, shortened, overflow):
            let treatment: DelimiterParser.Overflow = overflow == "keep" ? .keep : overflow == "discard" ? .discard : .extend
            return try DelimiterParser(table: keys, sourceKey: handling.sourceKey, separator: separator, quote: quote,
                                       keys: names, allowingShortenedFields: shortened, overflow: treatment,
                                       policy: policy(handling, keys))
        case let .parseApsara(handling, timezone):
            return try ApsaraParser(table: keys, sourceKey: handling.sourceKey, timezone: timezone, localZone: localZone,
                                    policy: policy(handling, keys))
        case let .parseTimestamp(sourceKey, format, timezone):
            return try TimestampParser(table: keys, sourceKey: sourceKey, format: format, timezone: timezone,
                                       localZone: localZone)
        case let .parseRegex(handling, pattern, names):
            return try RegexParser(table: keys, sourceKey: handling.sourceKey, regex: compile(pattern, field: "Regex"),
                                   keys: names, policy: policy(handling, keys))
        case let .filterRegex(include, exclude):
            var included: [(key: String, regex: CompiledRegex)] = []
            for rule in include { included.append((rule.key, try compile(rule.regex, field: "Include.\(rule.key)"))) }
            var excluded: [(key: String, regex: CompiledRegex)] = []
            for rule in exclude { excluded.append((rule.key, try compile(rule.regex, field: "Exclude.\(rule.key)"))) }
            return RegexFilter(table: keys, include: included, exclude: excluded)
        }
    }

    /// The topic rule, or nil when every file has no topic.
    static func topics(_ settings: TopicSettings, pipeline: String) throws(AgentError) -> TopicExtractor? {
        guard settings != .none else { return nil }
        do {
            return try TopicExtractor(settings)
        } catch {
            throw .input(pipeline: pipeline, error.description)
        }
    }

    static func compile(_ pattern: String, field: String) throws(ParserConfigError) -> CompiledRegex {
        do {
            return try CompiledRegex(pattern)
        } catch {
            throw .badRegex(field: field, message: error.description)
        }
    }

    /// Multi-line rules: each pattern matches a prefix of the line (anchored at its start), as iLogtail's
    /// regex_search with match_continuous.
    static func multiline(_ settings: MultilineSettings) throws(ParserConfigError) -> MultilineRules? {
        guard case let .custom(start, continuation, end, discardUnmatched, maxRecordBytes) = settings else { return nil }
        // A pattern must match the whole line (Logtail and iLogtail use boost::regex_match): `\d+-\d+` does not
        // start a record at "2026-11-27 12:00:00 ...", `\d+-\d+.*` does.
        func matcher(_ pattern: String?, _ field: String) throws(ParserConfigError) -> MultilineRules.Matcher? {
            guard let pattern, !pattern.isEmpty else { return nil }
            return LinePredicate(regex: try compile("\\A(?:" + pattern + ")\\z", field: field))
        }
        return MultilineRules(start: try matcher(start, "Multiline.StartPattern"),
                              continuation: try matcher(continuation, "Multiline.ContinuePattern"),
                              end: try matcher(end, "Multiline.EndPattern"), discardUnmatched: discardUnmatched,
                              maxRecordBytes: maxRecordBytes)
    }

    private static func policy(_ handling: SourceHandling, _ keys: KeyTable) -> SourcePolicy {
        SourcePolicy(keepOnFailure: handling.keepOnFailure ? keys.intern(handling.renamedSourceKey) : nil,
                     keepOnSuccess: handling.keepOnSuccess ? keys.intern(handling.keptOnSuccessKey) : nil)
    }
}
