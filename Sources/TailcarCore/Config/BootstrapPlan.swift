// BootstrapPlan.swift
//
// What an AliyunLogConfig resource asks SLS to hold, as the vendor's log controller creates it: the
// project, the logstore (spec.lifeCycle days, spec.shardCount shards), a full-text index, one machine group
// per spec.machineGroups entry (user-defined identity: the group's machine list is its own name, the
// sidecar's ALIYUN_LOGTAIL_USER_DEFINED_ID), the Logtail config and its application to each group. Owns
// turning the resource's `logtailConfig` into the CreateConfig body; does not own calling SLS (Bootstrapper).
//
//   spec: {project: demo, logstore: err, logtailConfig: {configName: c, inputType: file, inputDetail: {...}}}
//     -> CreateConfig body {"configName":"c","inputType":"file","inputDetail":{...},
//                           "outputType":"LogService","outputDetail":{"projectName":"demo","logstoreName":"err"}}

public struct BootstrapPlan: Sendable, Equatable {
    /// Defaults of the vendor's custom resource when spec omits them.
    public static let defaultShardCount = 2
    public static let defaultLifeCycleDays = 90

    public var project: String
    public var logstore: String
    public var shardCount: Int
    /// spec.lifeCycle: the logstore's ttl in days.
    public var lifeCycleDays: Int
    public var machineGroups: [String]
    public var configName: String
    /// The CreateConfig body.
    public var logtailConfig: JSONValue

    public init(project: String, logstore: String, shardCount: Int = defaultShardCount,
                lifeCycleDays: Int = defaultLifeCycleDays, machineGroups: [String], configName: String,
                logtailConfig: JSONValue) {
        self.project = project
        self.logstore = logstore
        self.shardCount = shardCount
        self.lifeCycleDays = lifeCycleDays
        self.machineGroups = machineGroups
        self.configName = configName
        self.logtailConfig = logtailConfig
    }

    /// The resource's `logtailConfig` as SLS's CreateConfig takes it: every member as written, `configName`
    /// filled in when absent, `outputType` LogService, and `outputDetail` naming the resource's project and
    /// logstore (its other members, such as endpoint or region, kept).
    static func configBody(_ logtailConfig: ConfigValue, configName: String, project: String, logstore: String) -> JSONValue {
        var members: [JSONMember] = []
        var output: [JSONMember] = []
        if case .mapping(let entries) = logtailConfig.node {
            for entry in entries {
                switch entry.key {
                case "outputType": continue
                case "outputDetail":
                    if case .object(let detail) = json(entry.value) {
                        output = detail.filter { $0.key != "projectName" && $0.key != "logstoreName" }
                    }
                default: members.append(JSONMember(entry.key, json(entry.value)))
                }
            }
        }
        if !members.contains(where: { $0.key == "configName" }) {
            members.insert(JSONMember("configName", .string(configName)), at: 0)
        }
        output += [JSONMember("projectName", .string(project)), JSONMember("logstoreName", .string(logstore))]
        members += [JSONMember("outputType", .string("LogService")), JSONMember("outputDetail", .object(output))]
        return .object(members)
    }

    /// A configuration node as JSON. Quoted scalars stay strings; plain ones become booleans
    /// (`true`/`false` in any common case), null, or numbers when they read as JSON numbers.
    static func json(_ value: ConfigValue) -> JSONValue {
        switch value.node {
        case .mapping(let entries): return .object(entries.map { JSONMember($0.key, json($0.value)) })
        case .sequence(let elements): return .array(elements.map(json))
        case .scalar(let text, let plain):
            guard plain else { return .string(text) }
            if value.isNull { return .null }
            switch text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: return JSONValue.number(literal: text) ?? .string(text)
            }
        }
    }
}
