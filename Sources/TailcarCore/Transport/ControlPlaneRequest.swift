// ControlPlaneRequest.swift
//
// The SLS control-plane calls a bootstrap makes (what the AliyunLogConfig custom resource creates) and
// the reads the console poller makes (projects, machine groups, applied configs, configs), and their
// signed requests: JSON bodies, `Content-Type: application/json`, v1 signature, Host
// `{project}.{endpoint}` for every call with a project, CreateProject included, the bare endpoint for
// ListProject. Owns each call's method, path, query and body and the header list; does not own sending,
// the order of calls or what an answer means (Bootstrapper, ConsolePoller).
//
//   POST /logstores  Host: k8s-demo.cn-hangzhou.log.aliyuncs.com
//   {"logstoreName":"nginx-error","ttl":90,"shardCount":2}
//   GET /machinegroups?offset=0&size=500  Host: k8s-demo.cn-hangzhou.log.aliyuncs.com

/// One control-plane call, with what it sends.
public enum ControlPlaneCall: Sendable, Equatable {
    /// CreateProject: `POST /`.
    case createProject(name: String, description: String)
    /// CreateLogStore: `POST /logstores`.
    case createLogstore(name: String, ttlDays: Int, shardCount: Int)
    /// CreateLogStore with further settings after ttl and shardCount (the vendor controller's autoSplit,
    /// maxSplitShard, mode, hot_ttl, ...), in the order given.
    case createLogstoreWithSettings(name: String, ttlDays: Int, shardCount: Int, settings: [JSONMember])
    /// CreateIndex: `POST /logstores/{logstore}/index`, a full-text index over the whole line.
    case createIndex(logstore: String)
    /// CreateIndex with the vendor log controller's default Kubernetes index: the line with its tokens, and a
    /// text index on each pod tag (`kubernetesIndexKeys`), `doc_value` for a standard logstore.
    case createKubernetesIndex(logstore: String, docValue: Bool)
    /// CreateMachineGroup: `POST /machinegroups`, identified by user-defined ids.
    case createMachineGroup(name: String, machineList: [String])
    /// CreateConfig: `POST /configs` with the Logtail config object.
    case createConfig(JSONValue)
    /// UpdateConfig: `PUT /configs/{config}` with the whole Logtail config object.
    case updateConfig(name: String, JSONValue)
    /// ListAppliedConfigs: `GET /machinegroups/{group}/configs`, answered `{"count":n,"configs":[...]}`.
    case listAppliedConfigs(machineGroup: String)
    /// ApplyConfigToMachineGroup: `PUT /machinegroups/{group}/configs/{config}`, no body.
    case applyConfig(config: String, machineGroup: String)
    /// ListProject: `GET /?offset=&size=` on the bare endpoint (no project), answered `{count, total, projects}`.
    case listProjects(offset: Int, size: Int)
    /// ListMachineGroup: `GET /machinegroups?offset=&size=`, answered `{count, total, machinegroups}`.
    case listMachineGroups(offset: Int, size: Int)
    /// GetMachineGroup: `GET /machinegroups/{group}`.
    case getMachineGroup(String)
    /// GetConfig: `GET /configs/{config}`, the Logtail config object.
    case getConfig(String)
    /// GetLogtailPipelineConfig: `GET /pipelineconfigs/{config}`.
    case getPipelineConfig(String)

    /// SLS's default full-text tokens (the console's and the SDK examples').
    public static let defaultTokens = [",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&",
                                       "<", ">", "/", ":", "\n", "\t", "\r"]

    /// The tokens of the vendor controller's default Kubernetes index (its createDefaultK8SIndex).
    public static let kubernetesTokens = [" ", "\n", "\t", "\r", ",", ";", "[", "]", "{", "}", "(", ")", "&", "^", "*",
                                          "#", "@", "~", "=", "<", ">", "/", "\\", "?", ":", "'", "\""]
    /// The fields that index gives a text index.
    public static let kubernetesIndexKeys = [
        "__tag__:__hostname__", "__tag__:__path__", "__tag__:_container_ip_", "__tag__:_container_name_",
        "__tag__:_image_name_", "__tag__:_namespace_", "__tag__:_pod_name_", "__tag__:_pod_uid_", "_container_ip_",
        "_container_name_", "_image_name_", "_namespace_", "_pod_name_", "_pod_uid_", "_source_",
    ]

    public var method: String {
        switch self {
        case .listAppliedConfigs, .listProjects, .listMachineGroups, .getMachineGroup, .getConfig, .getPipelineConfig:
            return "GET"
        case .applyConfig, .updateConfig: return "PUT"
        default: return "POST"
        }
    }

    public var path: String {
        switch self {
        case .createProject: return "/"
        case .createLogstore, .createLogstoreWithSettings: return "/logstores"
        case .createIndex(let logstore), .createKubernetesIndex(let logstore, _): return "/logstores/\(logstore)/index"
        case .createMachineGroup: return "/machinegroups"
        case .createConfig: return "/configs"
        case .updateConfig(let name, _): return "/configs/\(name)"
        case .listAppliedConfigs(let group): return "/machinegroups/\(group)/configs"
        case .applyConfig(let config, let group): return "/machinegroups/\(group)/configs/\(config)"
        case .listProjects: return "/"
        case .listMachineGroups: return "/machinegroups"
        case .getMachineGroup(let group): return "/machinegroups/\(group)"
        case .getConfig(let config): return "/configs/\(config)"
        case .getPipelineConfig(let config): return "/pipelineconfigs/\(config)"
        }
    }

    /// Query parameters, in sending order (the signature sorts them).
    public var query: [(key: String, value: String)] {
        switch self {
        case let .listProjects(offset, size), let .listMachineGroups(offset, size):
            return [("offset", String(offset)), ("size", String(size))]
        default:
            return []
        }
    }

    /// `path?query` as the request line carries it.
    public var target: String {
        let query = self.query
        return query.isEmpty ? path : path + "?" + query.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// The JSON body; nil for the calls that send none.
    public var body: JSONValue? {
        switch self {
        case let .createProject(name, description):
            return .object([JSONMember("projectName", .string(name)), JSONMember("description", .string(description))])
        case let .createLogstore(name, ttl, shards):
            return .object([JSONMember("logstoreName", .string(name)), JSONMember("ttl", .int(ttl)),
                            JSONMember("shardCount", .int(shards))])
        case let .createLogstoreWithSettings(name, ttl, shards, settings):
            return .object([JSONMember("logstoreName", .string(name)), JSONMember("ttl", .int(ttl)),
                            JSONMember("shardCount", .int(shards))] + settings)
        case .createIndex:
            let line: JSONValue = .object([JSONMember("token", .array(Self.defaultTokens.map(JSONValue.string))),
                                           JSONMember("caseSensitive", .bool(false)), JSONMember("chn", .bool(false))])
            return .object([JSONMember("line", line)])
        case let .createKubernetesIndex(_, docValue):
            let tokens = JSONValue.array(Self.kubernetesTokens.map(JSONValue.string))
            let line: JSONValue = .object([JSONMember("token", tokens), JSONMember("caseSensitive", .bool(false)),
                                           JSONMember("chn", .bool(false))])
            let key: JSONValue = .object([JSONMember("type", .string("text")), JSONMember("token", tokens),
                                          JSONMember("caseSensitive", .bool(false)), JSONMember("chn", .bool(false)),
                                          JSONMember("doc_value", .bool(docValue))])
            return .object([JSONMember("line", line),
                            JSONMember("keys", .object(Self.kubernetesIndexKeys.map { JSONMember($0, key) })),
                            JSONMember("log_reduce", .bool(false))])
        case let .createMachineGroup(name, machines):
            return .object([JSONMember("groupName", .string(name)), JSONMember("groupType", .string("")),
                            JSONMember("groupAttribute", .object([])),
                            JSONMember("machineIdentifyType", .string("userdefined")),
                            JSONMember("machineList", .array(machines.map(JSONValue.string)))])
        case .createConfig(let config), .updateConfig(_, let config):
            return config
        case .listAppliedConfigs, .applyConfig, .listProjects, .listMachineGroups, .getMachineGroup, .getConfig,
             .getPipelineConfig:
            return nil
        }
    }
}

/// A signed control-plane request, ready for HTTPRequestWriter.
public struct ControlPlaneRequest: Sendable {
    public var method: String
    /// The request target: the path and, when the call has one, its query.
    public var path: String
    /// Header names and values in sending order (Host first, then Authorization and x-log-date last).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// Headers as aliyun-log-python-sdk's `_send` and AuthV1 make them: Host `{project}.{authority}` (the bare
    /// authority when `project` is empty: ListProject),
    /// Content-Type (only with a body), Content-Length, Date, x-log-apiversion 0.6.0, x-log-bodyrawsize
    /// (the body's length; 0 without one), Content-MD5 (only with a body), x-log-signaturemethod
    /// hmac-sha1, x-acs-security-token (STS only), Authorization, then x-log-date (a copy of Date, unsigned).
    public init(_ call: ControlPlaneCall, project: String, authority: String, credentials: Credentials, epochSeconds: Int) {
        method = call.method
        path = call.target
        body = call.body?.bytes ?? []
        let (method, path, query) = (call.method, call.path, call.query)
        let host = project.isEmpty ? authority : "\(project).\(authority)"
        headers = body.withUnsafeBytes { raw in
            SLSSigner.signedHeaders(method: method, path: path, host: host,
                                    contentType: raw.isEmpty ? nil : "application/json", body: raw, rawSize: raw.count,
                                    compressType: nil, credentials: credentials, epochSeconds: epochSeconds,
                                    query: query)
        }
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The whole request as it goes on the wire.
    public var wireBytes: [UInt8] {
        var writer = HTTPRequestWriter(initialCapacity: body.count + 1024)
        body.withUnsafeBytes { writer.write(method: method, target: path, headers: headers, body: $0) }
        return writer.bytes
    }
}
