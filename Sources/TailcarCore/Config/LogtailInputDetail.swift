// LogtailInputDetail.swift
//
// Maps a Logtail `inputDetail` onto one input and the processors its `logType` implies, with the defaults
// SLS documents: maxDepth 10, logBeginRegex `.*` (single line), regex `(.*)`, key [content], discardUnmatch
// false (an unmatched record keeps its raw text under `__raw_log__`), enableRawLog false (true: a parsed
// record keeps it under `__raw__`), acceptNoEnoughKeys false, tailExisted
// false, advanced.tail_size_kb 1024, quote `"`, topicFormat none (TopicConfig.swift). `nginxLogFormat` is
// Tailcar's: common_reg_log with the regex and keys derived from an nginx log_format (NginxLogFormat.swift).

enum LogtailInputDetail {
    static let logTypes = ["common_reg_log", "json_log", "delimiter_log", "apsara_log"]
    /// Accepted and not acted on.
    static let accepted = ["localStorage", "preserve", "preserveDepth", "mergeType", "priority", "enableTag",
                           "adjustTimezone", "discardNonUtf8", "autoExtend", "shardHashKey",
                           "sensitive_keys", "dockerIncludeLabel", "dockerExcludeLabel", "dockerIncludeEnv",
                           "dockerExcludeEnv", "delaySkipBytes", "delayAlarmBytes", "maxSendRate", "sendRateExpire",
                           "plugin", "outputType", "inputType"]

    static func read(_ reader: inout FieldReader,
                     _ diagnosis: inout Diagnosis) -> (FileInputSettings, [ProcessorSettings], TopicSettings) {
        let path = reader.path, at = reader.value.position
        let logType = reader.string("logType", default: "common_reg_log", &diagnosis) ?? "common_reg_log"
        if !logTypes.contains(logType) {
            diagnosis.errors.append(ConfigError(at, field: path + ".logType",
                                                "expected one of \(logTypes.joined(separator: ", ")), found \"\(logType)\""))
        }
        let logPath = reader.string("logPath", required: true, &diagnosis) ?? "/"
        let filePattern = reader.string("filePattern", required: true, &diagnosis) ?? "*"
        let depth = reader.int("maxDepth", default: 10, range: 0...1000, &diagnosis)
        if !logPath.hasPrefix("/") {
            diagnosis.errors.append(ConfigError(at, field: path + ".logPath", "\"\(logPath)\" must be an absolute directory"))
        }
        let directory = logPath.hasSuffix("/") ? String(logPath.dropLast()) : logPath
        var input = FileInputSettings(filePaths: [depth > 0 ? "\(directory)/**/\(filePattern)" : "\(directory)/\(filePattern)"],
                                      maxDirSearchDepth: depth)
        let begin = reader.string("logBeginRegex", default: ".*", &diagnosis) ?? ".*"
        let next = nonEmpty(reader.string("logContinueRegex", &diagnosis))
        let end = nonEmpty(reader.string("logEndRegex", &diagnosis))
        let start: String? = begin == ".*" || begin.isEmpty ? nil : begin
        for (field, text) in [("logBeginRegex", start), ("logContinueRegex", next), ("logEndRegex", end)] {
            if let text {
                PipelineValidator.checkRegex(text, keys: nil, regexAt: reader.value.member(field)?.position ?? at,
                                             regexField: path + "." + field, &diagnosis)
            }
        }
        // Logtail's discardUnmatch drops both lines before any begin line and records the regex does not match.
        let discard = reader.bool("discardUnmatch", default: false, &diagnosis)
        if start != nil || end != nil {
            input.multiline = .custom(start: start, continuePattern: next, end: end, discardUnmatched: discard,
                                      maxRecordBytes: 512 * 1024)
        }
        if let encoding = reader.string("fileEncoding", default: "utf8", &diagnosis),
           !["utf8", "utf-8"].contains(encoding.lowercased()) {
            diagnosis.errors.append(ConfigError(at, field: path + ".fileEncoding", "only utf8 is supported, found \"\(encoding)\""))
        }
        if reader.bool("dockerFile", default: false, &diagnosis) {
            diagnosis.errors.append(ConfigError(at, field: path + ".dockerFile",
                                                "must be false: a sidecar reads the shared directory, not container paths"))
        }
        let topic = TopicConfig.logtail(reader.string("topicFormat", default: "none", &diagnosis) ?? "none",
                                        at: reader.value.member("topicFormat")?.position ?? at,
                                        field: path + ".topicFormat", &diagnosis)
        let tailExisted = reader.bool("tailExisted", default: false, &diagnosis)
        var tailSizeKB = 1024
        if let advanced = reader.raw("advanced"),
           var nested = FieldReader(advanced, path: path + ".advanced", subject: "advanced", into: &diagnosis) {
            tailSizeKB = nested.int("tail_size_kb", default: 1024, range: 0...104_857_600, &diagnosis)
            nested.accept(["force_multiconfig", "raw_log_tag", "enable_timestamp_nanosecond", "enable_precise_timestamp",
                           "precise_timestamp_key", "precise_timestamp_unit", "exactly_once_concurrency",
                           "enable_log_position_meta", "max_rotate_queue_size", "close_unused_reader_interval",
                           "batch_send_interval", "specified_year", "k8s", "blacklist"])
            nested.finish(&diagnosis)
        }
        input.tailSizeBytes = tailExisted ? 0 : tailSizeKB * 1024
        let processors = parsers(&reader, logType: logType, discard: discard, &diagnosis)
        reader.accept(accepted)
        reader.finish(&diagnosis)
        return (input, processors, topic)
    }

    /// The parse, time and filter processors that `logType` and its fields imply.
    private static func parsers(_ reader: inout FieldReader, logType: String, discard: Bool,
                                _ diagnosis: inout Diagnosis) -> [ProcessorSettings] {
        // enableRawLog: a parsed record also carries its raw text, under `__raw__`.
        let rawLog = reader.bool("enableRawLog", default: false, &diagnosis)
        let handling = SourceHandling(sourceKey: "content", keepOnFailure: !discard, keepOnSuccess: rawLog,
                                      renamedSourceKey: SourcePolicy.rawLogKeyName, keptOnSuccessKey: "__raw__")
        let regex = reader.string("regex", default: "(.*)", &diagnosis) ?? "(.*)"
        let keys = reader.has("key") ? reader.stringList("key", &diagnosis) : ["content"]
        let separator = reader.string("separator", default: "", &diagnosis) ?? ""
        let quote = reader.string("quote", default: "\"", &diagnosis) ?? "\""
        let shortened = reader.bool("acceptNoEnoughKeys", default: false, &diagnosis)
        let timeKey = nonEmpty(reader.string("timeKey", &diagnosis))
        let timeFormat = reader.string("timeFormat", default: "", &diagnosis) ?? ""
        let timezone = nonEmpty(reader.string("logTimezone", &diagnosis))
        var processors: [ProcessorSettings] = []
        if logType != "common_reg_log", reader.has("nginxLogFormat") {
            reader.accept(["nginxLogFormat"])
            diagnosis.errors.append(ConfigError(reader.value.member("nginxLogFormat")?.position ?? reader.value.position,
                                                field: reader.path + ".nginxLogFormat",
                                                "needs logType common_reg_log, found \"\(logType)\""))
        }
        switch logType {
        case "json_log": processors.append(.parseJSON(handling))
        case "apsara_log": processors.append(.parseApsara(handling, timezone: timezone))
        case "delimiter_log":
            if separator.isEmpty {
                diagnosis.errors.append(ConfigError(reader.value.position, field: reader.path + ".separator",
                                                    "is required for delimiter_log"))
            }
            let quoteBytes = Array((quote == "\\u0001" ? "\u{1}" : quote).utf8)
            processors.append(.parseDelimiter(handling, separator: separator, quote: quoteBytes.first, keys: keys,
                                              allowingShortenedFields: shortened, overflow: "extend"))
        default:
            if let format = nonEmpty(reader.string("nginxLogFormat", &diagnosis)) {
                processors.append(nginx(format, &reader, handling, &diagnosis))
            } else if !(regex == "(.*)" && keys == ["content"]) {
                let value = reader.value
                PipelineValidator.checkRegex(regex, keys: keys, regexAt: value.member("regex")?.position ?? value.position,
                                             regexField: reader.path + ".regex", keysAt: value.member("key")?.position,
                                             keysField: reader.path + ".key", &diagnosis)
                processors.append(.parseRegex(handling, regex: regex, keys: keys))
            }
        }
        if !timeFormat.isEmpty {
            processors.append(.parseTimestamp(sourceKey: timeKey ?? "time", format: timeFormat, timezone: timezone))
        }
        let filterKeys = reader.stringList("filterKey", &diagnosis)
        let filterRegexes = reader.stringList("filterRegex", &diagnosis)
        if filterKeys.count != filterRegexes.count {
            diagnosis.errors.append(ConfigError(reader.value.position, field: reader.path + ".filterKey",
                                                "filterKey has \(filterKeys.count) names but filterRegex has \(filterRegexes.count) regexes"))
        } else if !filterKeys.isEmpty {
            for (index, regex) in filterRegexes.enumerated() {
                PipelineValidator.checkRegex(regex, keys: nil, regexAt: reader.value.member("filterRegex")?.position
                                                 ?? reader.value.position,
                                             regexField: reader.path + ".filterRegex[\(index)]", &diagnosis)
            }
            processors.append(.filterRegex(include: zip(filterKeys, filterRegexes).map { FieldPattern(key: $0, regex: $1) },
                                           exclude: []))
        }
        return processors
    }

    /// Tailcar's `nginxLogFormat` (the console's Nginx mode, which SLS stores as a regex and keys): the
    /// regex and keys derived from the format; `regex` or `key` beside it would be ambiguous.
    private static func nginx(_ format: String, _ reader: inout FieldReader, _ handling: SourceHandling,
                              _ diagnosis: inout Diagnosis) -> ProcessorSettings {
        let at = reader.value.member("nginxLogFormat")?.position ?? reader.value.position
        for field in ["regex", "key"] where reader.has(field) {
            diagnosis.errors.append(ConfigError(at, field: reader.path + ".nginxLogFormat",
                "gives the regex and keys itself; remove \"\(field)\" or nginxLogFormat"))
        }
        let derived = NginxLogFormat.regex(forNamedOrLiteral: format)
        PipelineValidator.checkRegex(derived.pattern, keys: derived.keys, regexAt: at,
                                     regexField: reader.path + ".nginxLogFormat", &diagnosis)
        return .parseRegex(handling, regex: derived.pattern, keys: derived.keys)
    }

    private static func nonEmpty(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
}
