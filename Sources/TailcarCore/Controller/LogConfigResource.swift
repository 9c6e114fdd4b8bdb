// LogConfigResource.swift
//
// One AliyunLogConfig object as the API serves it, and what the controller makes of it: its identity
// (namespace, name, uid), the generation a reconcile answers for, and the bootstrap plan, read by the same
// validation `tailcar bootstrap` uses (LogtailConfigValidator) after the controller's defaults are filled in
// (spec.project from ALICLOUD_LOG_PROJECT, spec.machineGroups from ALICLOUD_LOG_MACHINE_GROUP, the SLS
// endpoint from ALICLOUD_LOG_ENDPOINT when logtailConfig.outputDetail names none). Owns that mapping; does
// not own calling SLS or the API.
//
//   {"metadata":{"namespace":"default","name":"web","uid":"9c..","generation":3,...},
//    "spec":{"logstore":"web","logtailConfig":{...}},"status":{...}}
//     -> key default/web, generation 3, plan project <default>, logstore web, groups [<default group>]

public struct ResourceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public var description: String { "\(namespace)/\(name)" }
    public static func < (a: ResourceKey, b: ResourceKey) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
}

/// What the controller fills in where a resource's spec says nothing (the vendor controller's environment).
public struct ControllerDefaults: Sendable {
    public var project: String?
    public var machineGroup: String?
    /// The SLS control-plane endpoint (`cn-hangzhou.log.aliyuncs.com`, `http://127.0.0.1:8080`).
    public var endpoint: String?

    public init(project: String? = nil, machineGroup: String? = nil, endpoint: String? = nil) {
        self.project = project
        self.machineGroup = machineGroup
        self.endpoint = endpoint
    }
}

/// Why a resource's spec cannot be reconciled: the validation errors, each naming the field.
struct InvalidResource: Error, CustomStringConvertible {
    var reasons: [String]
    var description: String { reasons.joined(separator: "; ") }
}

struct LogConfigObject {
    var key: ResourceKey
    var uid: String
    var generation: Int
    var resourceVersion: String
    var document: ConfigValue

    /// Vendor spec fields the shared validation does not know: dropped before it so they are not "unknown".
    /// The logstore settings among them are read by `logstoreSettings`; configTags, the metering mode and
    /// the cross-account uid and endpoint are accepted and not acted on.
    static let ignoredSpecFields: Set<String> = [
        "configTags", "logstoreAutoSplit", "logstoreMaxSplitShard", "logstoreAppendMeta", "logstoreEnableTracking",
        "logstoreEncryptConf", "logstoreMeteringMode", "uid", "endpoint",
    ]

    init?(_ object: ConfigValue) {
        guard let metadata = object.member("metadata"), let name = metadata.member("name")?.text else { return nil }
        key = ResourceKey(namespace: metadata.member("namespace")?.text ?? "default", name: name)
        uid = metadata.member("uid")?.text ?? ""
        generation = metadata.member("generation")?.text.flatMap { Int($0) } ?? 0
        resourceVersion = metadata.member("resourceVersion")?.text ?? ""
        document = object
    }

    /// The pipeline (with its bootstrap plan) this resource asks for, or what is wrong with it.
    func pipeline(_ defaults: ControllerDefaults) -> Result<PipelineSettings, InvalidResource> {
        let at = document.position
        var entries: [(key: String, keyPosition: SourcePosition, value: ConfigValue)] = []
        for key in ["apiVersion", "kind"] {
            if let value = document.member(key) { entries.append((key, value.position, value)) }
        }
        entries.append(("metadata", at, ConfigValue(.mapping([("name", at, ConfigValue(.scalar(key.name, plain: false), at: at))]), at: at)))
        if let spec = document.member("spec") { entries.append(("spec", spec.position, filled(spec, defaults))) }
        var diagnosis = Diagnosis()
        let built = LogtailConfigValidator.pipeline(ConfigValue(.mapping(entries), at: at), fallbackName: key.name, &diagnosis)
        guard var pipeline = built, diagnosis.errors.isEmpty, pipeline.bootstrap != nil else {
            let reasons = diagnosis.errors.map { $0.description }
            return .failure(InvalidResource(reasons: reasons.isEmpty ? ["the resource has no logtailConfig to create"] : reasons))
        }
        if let shards = pipeline.bootstrap?.shardCount, shards > Self.maxShardCount {
            pipeline.bootstrap?.shardCount = Self.maxShardCount
        }
        if let endpoint = defaults.endpoint {
            pipeline.flushers = pipeline.flushers.map { flusher in
                guard case .sls(var sls) = flusher, sls.endpoint.isEmpty else { return flusher }
                sls.endpoint = endpoint
                return .sls(sls)
            }
        }
        return .success(pipeline)
    }

    /// The vendor controller's CreateLogStore settings after ttl and shardCount: autoSplit (default true),
    /// maxSplitShard (32) and mode (standard), then hot_ttl, telemetryType, appendMeta, enable_tracking and
    /// encrypt_conf when the spec sets them.
    ///
    ///   spec {logstoreMode: query, logstoreHotTTL: 7} -> autoSplit true, maxSplitShard 32, mode "query", hot_ttl 7
    var logstoreSettings: [JSONMember] {
        let spec = document.member("spec")
        func value(_ field: String) -> JSONValue? {
            guard let node = spec?.member(field), !node.isNull else { return nil }
            return BootstrapPlan.json(node)
        }
        var settings = [JSONMember("autoSplit", value("logstoreAutoSplit") ?? .bool(true)),
                        JSONMember("maxSplitShard", value("logstoreMaxSplitShard") ?? .int(32)),
                        JSONMember("mode", value("logstoreMode") ?? .string("standard"))]
        let optional = [("logstoreHotTTL", "hot_ttl"), ("logstoreTelemetryType", "telemetryType"),
                        ("logstoreAppendMeta", "appendMeta"), ("logstoreEnableTracking", "enable_tracking"),
                        ("logstoreEncryptConf", "encrypt_conf")]
        for (field, name) in optional {
            if let given = value(field), given != .int(0) || field != "logstoreHotTTL" { settings.append(JSONMember(name, given)) }
        }
        return settings
    }

    /// The vendor controller creates at most 10 shards.
    static let maxShardCount = 10

    private func filled(_ spec: ConfigValue, _ defaults: ControllerDefaults) -> ConfigValue {
        guard case .mapping(var entries) = spec.node else { return spec }
        entries.removeAll { Self.ignoredSpecFields.contains($0.key) }
        let at = spec.position
        let project = spec.member("project")?.text ?? ""
        if project.isEmpty, let value = defaults.project {
            entries.removeAll { $0.key == "project" }
            entries.append(("project", at, ConfigValue(.scalar(value, plain: false), at: at)))
        }
        let groups: Bool = { if case .sequence(let items)? = spec.member("machineGroups")?.node { !items.isEmpty } else { false } }()
        if !groups, let value = defaults.machineGroup {
            entries.removeAll { $0.key == "machineGroups" }
            entries.append(("machineGroups", at, ConfigValue(.sequence([ConfigValue(.scalar(value, plain: false), at: at)]), at: at)))
        }
        return ConfigValue(.mapping(entries), at: at)
    }
}
