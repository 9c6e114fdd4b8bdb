// PipelineValidator+Processors.swift
//
// The `processors` of an iLogtail pipeline: the native parsers and the regex filter, with iLogtail's
// field names (SourceKey, KeepingSourceWhenParseFail, KeepingSourceWhenParseSucceed, RenamedSourceKey, …),
// and Tailcar's `processor_parse_nginx` (NginxLogFormat: `main`, `combined`, a format string or a whole
// `log_format` directive), the console's Nginx mode: iLogtail has no such plugin type, the console stores
// the regex and keys it derives, and so does this one (it becomes a regex parser).

import TailcarRegex

extension PipelineValidator {
    static let processorTypes = ["processor_parse_regex_native", "processor_parse_json_native",
                                 "processor_parse_delimiter_native", "processor_parse_apsara_native",
                                 "processor_parse_timestamp_native", "processor_filter_regex_native",
                                 "processor_parse_nginx"]

    /// The test-only processor (ProcessorSettings.burnCPU); not in `processorTypes`, so never suggested.
    static let testBurnCPUType = "processor_test_burn_cpu"

    static func processor(_ value: ConfigValue, path: String, _ diagnosis: inout Diagnosis) -> ProcessorSettings? {
        guard var reader = FieldReader(value, path: path, subject: "a processor", into: &diagnosis) else { return nil }
        guard let type = reader.string("Type", required: true, &diagnosis) else { return nil }
        guard processorTypes.contains(type) || type == testBurnCPUType else {
            var message = "unknown plugin type \"\(type)\""
            if let suggestion = nearest(type, in: processorTypes) { message += "; did you mean \"\(suggestion)\"?" }
            diagnosis.errors.append(ConfigError(value.position, field: path + ".Type", message))
            return nil
        }
        let errorsBefore = diagnosis.errors.count
        defer { reader.finish(&diagnosis) }
        let result: ProcessorSettings?
        switch type {
        case "processor_parse_regex_native":
            let handling = sourceHandling(&reader, &diagnosis)
            let regex = reader.string("Regex", required: true, &diagnosis)
            let keys = reader.stringList("Keys", required: true, &diagnosis)
            if let regex {
                checkRegex(regex, keys: keys, regexAt: value.member("Regex")?.position ?? value.position,
                           regexField: path + ".Regex", keysAt: value.member("Keys")?.position, keysField: path + ".Keys",
                           &diagnosis)
            }
            result = regex.map { .parseRegex(handling, regex: $0, keys: keys) }
        case "processor_parse_nginx":
            result = nginx(&reader, path: path, &diagnosis)
        case "processor_parse_json_native":
            result = .parseJSON(sourceHandling(&reader, &diagnosis))
        case "processor_parse_delimiter_native":
            let handling = sourceHandling(&reader, &diagnosis)
            let separator = reader.string("Separator", required: true, &diagnosis) ?? ""
            let quoteText = reader.string("Quote", default: "\"", &diagnosis) ?? "\""
            let keys = reader.stringList("Keys", required: true, &diagnosis)
            let shortened = reader.bool("AllowingShortenedFields", default: true, &diagnosis)
            let overflow = reader.string("OverflowedFieldsTreatment", default: "extend", &diagnosis) ?? "extend"
            if !["extend", "keep", "discard"].contains(overflow) {
                diagnosis.errors.append(ConfigError(value.position, field: path + ".OverflowedFieldsTreatment",
                                                    "expected extend, keep or discard, found \"\(overflow)\""))
            }
            let quoteBytes = Array(quoteText.utf8)
            if quoteBytes.count > 1 {
                diagnosis.errors.append(ConfigError(value.position, field: path + ".Quote", "expected one character"))
            }
            result = .parseDelimiter(handling, separator: separator, quote: quoteBytes.first, keys: keys,
                                     allowingShortenedFields: shortened, overflow: overflow)
        case "processor_parse_apsara_native":
            let handling = sourceHandling(&reader, &diagnosis)
            result = .parseApsara(handling, timezone: reader.string("Timezone", &diagnosis))
        case testBurnCPUType:
            result = .burnCPU(microsecondsPerRecord: reader.int("MicrosecondsPerRecord", default: 1000,
                                                                 range: 1...1_000_000, &diagnosis))
        case "processor_parse_timestamp_native":
            let source = reader.string("SourceKey", required: true, &diagnosis)
            let format = reader.string("SourceFormat", required: true, &diagnosis)
            let zone = reader.string("SourceTimezone", &diagnosis)
            result = source.flatMap { key in format.map { .parseTimestamp(sourceKey: key, format: $0, timezone: zone) } }
        default:
            let include = reader.stringMap("Include", &diagnosis).map { FieldPattern(key: $0.key, regex: $0.value) }
            let exclude = reader.stringMap("Exclude", &diagnosis).map { FieldPattern(key: $0.key, regex: $0.value) }
            for (field, rules) in [("Include", include), ("Exclude", exclude)] {
                for rule in rules {
                    checkRegex(rule.regex, keys: nil, regexAt: value.member(field)?.position ?? value.position,
                               regexField: "\(path).\(field).\(rule.key)", &diagnosis)
                }
            }
            result = .filterRegex(include: include, exclude: exclude)
        }
        return diagnosis.errors.count == errorsBefore ? result : nil
    }

    private static func nginx(_ reader: inout FieldReader, path: String, _ diagnosis: inout Diagnosis) -> ProcessorSettings? {
        let handling = sourceHandling(&reader, &diagnosis)
        guard let format = reader.string("NginxLogFormat", required: true, &diagnosis) else { return nil }
        let derived = NginxLogFormat.regex(forNamedOrLiteral: format)
        checkRegex(derived.pattern, keys: derived.keys, regexAt: reader.value.member("NginxLogFormat")?.position ?? reader.value.position,
                   regexField: path + ".NginxLogFormat", &diagnosis)
        if derived.keys.isEmpty {
            diagnosis.errors.append(ConfigError(reader.value.position, field: path + ".NginxLogFormat",
                                                "names no $variable, so there is nothing to extract"))
        }
        return .parseRegex(handling, regex: derived.pattern, keys: derived.keys)
    }

    private static func sourceHandling(_ reader: inout FieldReader, _ diagnosis: inout Diagnosis) -> SourceHandling {
        let source = reader.string("SourceKey", default: "content", &diagnosis) ?? "content"
        let keepOnFailure = reader.bool("KeepingSourceWhenParseFail", default: false, &diagnosis)
        let keepOnSuccess = reader.bool("KeepingSourceWhenParseSucceed", default: false, &diagnosis)
        let renamed = reader.string("RenamedSourceKey", &diagnosis)
        _ = reader.bool("CopingRawLog", default: false, &diagnosis)
        return SourceHandling(sourceKey: source, keepOnFailure: keepOnFailure, keepOnSuccess: keepOnSuccess,
                              renamedSourceKey: renamed)
    }

    /// A regex must compile; a parse regex's keys must name its capture groups one for one.
    static func checkRegex(_ pattern: String, keys: [String]?, regexAt: SourcePosition, regexField: String,
                           keysAt: SourcePosition? = nil, keysField: String = "", _ diagnosis: inout Diagnosis) {
        let compiled: CompiledRegex
        do {
            compiled = try CompiledRegex(pattern)
        } catch {
            diagnosis.errors.append(ConfigError(regexAt, field: regexField, error.description))
            return
        }
        guard let keys, keys.count != compiled.captureCount else { return }
        let last = keys.last.map { "; the last key is \"\($0)\"" } ?? ""
        diagnosis.errors.append(ConfigError(keysAt ?? regexAt, field: keysField,
            "the regex has \(compiled.captureCount) capture groups but \(keys.count) keys are given\(last)"))
    }
}
