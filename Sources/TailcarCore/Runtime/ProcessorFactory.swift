// ProcessorFactory.swift
//
// Builds a pipeline's processors from their settings, interning every key into the pipeline's KeyTable.
// Owns the mapping from settings to parser classes and the Logtail/iLogtail source-field policy.

enum ProcessorFactory {
    static func make(_ settings: [ProcessorSettings], pipeline: String, keys: KeyTable) throws(AgentError) -> [any EventProcessor] {
        var processors: [any EventProcessor] = []
        for (index, setting) in settings.enumerated() {
            do {
                processors.append(try make(setting, keys: keys))
            } catch {
                throw .processor(pipeline: pipeline, index: index, error.description)
            }
        }
        return processors
    }

    private static func make(_ setting: ProcessorSettings, keys: KeyTable) throws(ParserConfigError) -> any EventProcessor {
        switch setting {
        case .parseJSON(let handling):
            return JSONParser(table: keys, sourceKey: handling.sourceKey, policy: policy(handling, keys))
        case let .parseDelimiter(handling, separator, quote, names, shortened, overflow):
            let treatment: DelimiterParser.Overflow = overflow == "keep" ? .keep : overflow == "discard" ? .discard : .extend
            return try DelimiterParser(table: keys, sourceKey: handling.sourceKey, separator: separator, quote: quote,
                                       keys: names, allowingShortenedFields: shortened, overflow: treatment,
                                       policy: policy(handling, keys))
        case let .parseApsara(handling, timezone):
            return try ApsaraParser(table: keys, sourceKey: handling.sourceKey, timezone: timezone,
                                    policy: policy(handling, keys))
        case let .parseTimestamp(sourceKey, format, timezone):
            return try TimestampParser(table: keys, sourceKey: sourceKey, format: format, timezone: timezone)
        case .parseRegex, .filterRegex:
            throw .regexEngineUnavailable
        }
    }

    private static func policy(_ handling: SourceHandling, _ keys: KeyTable) -> SourcePolicy {
        .ilogtail(keepingSourceWhenParseFail: handling.keepOnFailure,
                  keepingSourceWhenParseSucceed: handling.keepOnSuccess,
                  renamedSourceKey: handling.renamedSourceKey, keys: keys)
    }
}
