// ConsoleConfigLoader.swift
//
// Turns configs fetched from the SLS console into pipelines with the loaders local files use: a Logtail
// config (GetConfig) through the Logtail validator, a pipeline config (GetLogtailPipelineConfig) through
// the iLogtail one. The console decides what a file config leaves to the environment:
//
//   project   the group's project (outputDetail.projectName and a flusher_sls Project are not consulted
//             for a Logtail config; a pipeline config's flusher_sls gets it when it names none)
//   logstore  outputDetail.logstoreName (a flusher_sls Logstore)
//   endpoint  the region's, from ilogtail_config.json, when the environment gives one; else the config's
//   topic     topicFormat group_topic (TopicType machine_group_topic): the group's groupAttribute.groupTopic
//
// Each pipeline is named after its config and has the origin `sls:project/config via group`. A config
// named like a local pipeline, or like an earlier console config, is skipped with a note (local wins).
// A config with errors is reported and left out; the others load. Owns that mapping; does not own
// fetching or reloading.

public struct ConsoleLoadResult: Sendable {
    public var pipelines: [PipelineSettings] = []
    public var warnings: [ConfigWarning] = []
    /// Per config that could not be loaded, its errors.
    public var errors: [ConfigError] = []
    public var notes: [ConfigNote] = []
    /// Names of configs that had errors (the caller may keep their previous version).
    public var failed: [String] = []
}

public enum ConsoleConfigLoader {
    /// Top-level members of a pipeline-config answer that describe the object, not the pipeline.
    static let pipelineMetadata: Set<String> = ["configName", "createTime", "lastModifyTime", "logSample", "task"]

    public static func load(_ configs: [ConsoleConfig], context: SidecarContext,
                            localNames: Set<String> = []) -> ConsoleLoadResult {
        var result = ConsoleLoadResult()
        var taken = localNames
        for config in configs {
            guard !taken.contains(config.name) else {
                let owner = localNames.contains(config.name) ? "a local pipeline" : "another console config"
                result.notes.append(ConfigNote(file: config.origin, "config \"\(config.name)\" has the name of \(owner): skipped"))
                continue
            }
            var diagnosis = Diagnosis()
            if let pipeline = pipeline(config, context: context, &diagnosis), diagnosis.errors.isEmpty {
                taken.insert(config.name)
                result.pipelines.append(pipeline)
            } else {
                result.failed.append(config.name)
            }
            result.errors += diagnosis.errors
            result.warnings += diagnosis.warnings
        }
        return result
    }

    static func pipeline(_ config: ConsoleConfig, context: SidecarContext, _ diagnosis: inout Diagnosis) -> PipelineSettings? {
        let documents: [ConfigValue]
        do { documents = try YAMLReader.documents(config.body, file: config.origin) } catch {
            diagnosis.errors.append(error)
            return nil
        }
        guard let root = documents.first(where: { !$0.isNull }), case .mapping = root.node else {
            diagnosis.errors.append(ConfigError(SourcePosition(file: config.origin, line: 1, column: 1), "expected a JSON object"))
            return nil
        }
        var pipeline: PipelineSettings?
        let topicField: String
        let groupTopic: Bool
        switch config.kind {
        case .logtail:
            pipeline = LogtailConfigValidator.plainConfig(root, path: "", project: config.group.project, logstore: nil,
                                                          fallbackName: config.name, &diagnosis)
            topicField = "inputDetail.topicFormat"
            groupTopic = root.member("inputDetail")?.member("topicFormat").flatMap(ConsoleAnswer.scalar) == "group_topic"
        case .pipeline:
            pipeline = PipelineValidator.pipeline(pipelineDocument(root, project: config.group.project),
                                                  name: config.name, &diagnosis)
            topicField = "global.TopicType"
            groupTopic = root.member("global")?.member("TopicType").flatMap(ConsoleAnswer.scalar) == "machine_group_topic"
        }
        guard var pipeline else { return nil }
        pipeline.name = config.name
        pipeline.origin = config.origin
        if groupTopic {
            diagnosis.warnings.removeAll { $0.field == topicField }
            pipeline.topic = config.group.topic.isEmpty ? .none : .fixed(config.group.topic)
        }
        pipeline.flushers = pipeline.flushers.map { flusher in
            guard case .sls(var sls) = flusher else { return flusher }
            if let endpoint = context.dataEndpoint { sls.endpoint = endpoint }
            if sls.region.isEmpty, let region = context.region { sls.region = region }
            if sls.project.isEmpty { sls.project = config.group.project }
            return .sls(sls)
        }
        guard pipeline.enabled else {
            diagnosis.warnings.append(ConfigWarning(root.position, field: "enable", "the config is disabled: not run"))
            return nil
        }
        return pipeline
    }

    /// The pipeline-config answer without its metadata members, each flusher_sls given the group's
    /// project and a placeholder endpoint when it names none (the environment's replaces it).
    static func pipelineDocument(_ root: ConfigValue, project: String) -> ConfigValue {
        guard case .mapping(let entries) = root.node else { return root }
        let kept = entries.filter { !pipelineMetadata.contains($0.key) }.map { entry in
            guard entry.key == "flushers", case .sequence(let flushers) = entry.value.node else { return entry }
            let filled = flushers.map { flusher -> ConfigValue in
                guard flusher.member("Type").flatMap(ConsoleAnswer.scalar) == "flusher_sls" else { return flusher }
                var filled = flusher
                for (key, value) in [("Project", project), ("Endpoint", "")] where flusher.member(key) == nil {
                    filled = filled.adding(key, value)
                }
                return filled
            }
            return (key: entry.key, keyPosition: entry.keyPosition, value: ConfigValue(.sequence(filled), at: entry.value.position))
        }
        return ConfigValue(.mapping(kept), at: root.position)
    }
}

extension ConfigValue {
    /// A mapping with `key: text` appended (quoted, so it stays a string).
    func adding(_ key: String, _ text: String) -> ConfigValue {
        guard case .mapping(var entries) = node else { return self }
        entries.append((key: key, keyPosition: position, value: ConfigValue(.scalar(text, plain: false), at: position)))
        return ConfigValue(.mapping(entries), at: position)
    }
}
