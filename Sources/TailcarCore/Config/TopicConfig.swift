// TopicConfig.swift
//
// Reads a pipeline's topic rule in both forms into `TopicSettings`; the rule itself runs in
// Parsing/TopicExtractor.swift.
//
// Logtail `inputDetail.topicFormat` (iLogtail 1.x ConfigManagerBase and LogFileReader):
//   none, default, "" -> no topic (`default` is also "no topic" for every log type Tailcar reads
//                        as text; iLogtail derives a path topic for apsara files only)
//   customized://TEXT -> TEXT for every file
//   group_topic, global_topic -> the machine group's topic, which only a config server knows: warned,
//                        no topic
//   anything else     -> a regex over the file path (plain text too: it is a regex that matches no
//                        path, so a format without a capture group is warned)
// iLogtail pipeline `global`: TopicType none | custom (TopicFormat `customized://TEXT` or TEXT) |
//   filepath (TopicFormat is the path regex) | machine_group_topic (warned, no topic).

import TailcarRegex

enum TopicConfig {
    static let customizedPrefix = "customized://"

    static func logtail(_ format: String, at position: SourcePosition, field: String,
                        _ diagnosis: inout Diagnosis) -> TopicSettings {
        switch format {
        case "", "none", "default":
            return .none
        case "group_topic", "global_topic":
            diagnosis.warnings.append(ConfigWarning(position, field: field,
                "\"\(format)\" takes the machine group's topic from the config server; a sidecar has none, no topic is set"))
            return .none
        default:
            if format.hasPrefix(customizedPrefix) { return .fixed(String(format.dropFirst(customizedPrefix.count))) }
            return pathRegex(format, at: position, field: field, &diagnosis)
        }
    }

    /// iLogtail's `global` block: the topic fields, the rest accepted.
    static func pipelineGlobal(_ value: ConfigValue, _ diagnosis: inout Diagnosis) -> TopicSettings {
        guard var reader = FieldReader(value, path: "global", subject: "global", into: &diagnosis) else { return .none }
        defer { reader.finish(&diagnosis) }
        reader.accept(["StructureType", "InputIntervalMs", "InputMaxFirstCollectDelayMs", "EnableTimestampNanosecond",
                       "UsingOldContentTag", "DefaultLogQueueSize", "DefaultLogGroupQueueSize", "ProcessPriority",
                       "AlwaysOnline", "DelayStopSec", "EnableProcessorTag", "PipelineMetaTagKey",
                       "PipelineMetaAgentTagKey"])
        let type = reader.string("TopicType", default: "none", &diagnosis) ?? "none"
        let format = reader.string("TopicFormat", default: "", &diagnosis) ?? ""
        let position = value.member("TopicFormat")?.position ?? value.position
        switch type {
        case "none", "":
            return .none
        case "custom", "customized":
            let text = format.hasPrefix(customizedPrefix) ? String(format.dropFirst(customizedPrefix.count)) : format
            return text.isEmpty ? missingFormat(type, value, &diagnosis) : .fixed(text)
        case "filepath":
            if format.isEmpty { return missingFormat(type, value, &diagnosis) }
            return pathRegex(format, at: position, field: "global.TopicFormat", &diagnosis)
        case "machine_group_topic":
            diagnosis.warnings.append(ConfigWarning(value.position, field: "global.TopicType",
                "machine_group_topic comes from the config server; a sidecar has none, no topic is set"))
            return .none
        default:
            diagnosis.errors.append(ConfigError(value.member("TopicType")?.position ?? value.position,
                field: "global.TopicType", "expected none, custom, filepath or machine_group_topic, found \"\(type)\""))
            return .none
        }
    }

    private static func missingFormat(_ type: String, _ value: ConfigValue, _ diagnosis: inout Diagnosis) -> TopicSettings {
        diagnosis.errors.append(ConfigError(value.position, field: "global.TopicFormat", "is required when TopicType is \(type)"))
        return .none
    }

    /// A path regex must compile; without a capture group it can only give an empty topic.
    private static func pathRegex(_ pattern: String, at position: SourcePosition, field: String,
                                  _ diagnosis: inout Diagnosis) -> TopicSettings {
        let compiled: CompiledRegex
        do {
            compiled = try CompiledRegex(pattern)
        } catch {
            diagnosis.errors.append(ConfigError(position, field: field, "a topic path regex that does not compile: \(error.description)"))
            return .none
        }
        if compiled.captureCount == 0 {
            diagnosis.warnings.append(ConfigWarning(position, field: field,
                "\"\(pattern)\" is read as a regex over the file path and has no capture group, so the topic stays empty;"
                    + " write customized://\(pattern) for a fixed topic"))
        }
        return .filePath(regex: pattern)
    }
}
