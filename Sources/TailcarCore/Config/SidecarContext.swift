// SidecarContext.swift
//
// What the Logtail sidecar's environment contributes to configuration: which AliyunLogConfig resources
// apply to this sidecar (its user-defined ids against spec.machineGroups) and the SLS data endpoint of the
// region (ALIYUN_LOGTAIL_CONFIG, the path of the region's ilogtail_config.json), in either of the vendor's
// two formats:
//
//   Logtail:        {"data_server_list": [{"cluster": "cn-hangzhou", "endpoint": "cn-hangzhou-intranet.log.aliyuncs.com"}]}
//   LoongCollector: {"primary_region": "cn-hangzhou",
//                    "data_servers": [{"region": "cn-hangzhou", "endpoint_list": ["cn-hangzhou-intranet.log.aliyuncs.com"]}]}
//     -> endpoint "cn-hangzhou-intranet.log.aliyuncs.com", region "cn-hangzhou"
//
// The user-defined ids are the union, in order and without repeats, of ALIYUN_LOGTAIL_USER_DEFINED_ID split
// on commas and /etc/ilogtail/user_defined_id split on newlines, each trimmed (as Logtail's
// ReloadLogtailSysConf builds its id set):
//
//   env "web, batch" + file "web\nops\n" -> ["web", "batch", "ops"]
//
// The vendor image ships that file as /etc/ilogtail/conf/<region>[-internet]/ilogtail_config.json; an image
// swapped for Tailcar's keeps the variable but not the file, so a missing file at that layout yields the
// region's documented endpoint from the directory name:
//
//   /etc/ilogtail/conf/cn-hangzhou/ilogtail_config.json          -> cn-hangzhou-intranet.log.aliyuncs.com
//   /etc/ilogtail/conf/cn-hangzhou-internet/ilogtail_config.json -> cn-hangzhou.log.aliyuncs.com
//
// Owns reading that file; does not read the environment (the executable does, in one place).

public struct SidecarContext: Sendable, Equatable {
    /// The machine-group ids this sidecar answers to. Empty: every resource applies, whatever its machineGroups.
    public var userDefinedIDs: [String]
    /// The data endpoint for SLS flushers whose resource names none (from ALIYUN_LOGTAIL_CONFIG).
    public var dataEndpoint: String?
    /// The region of that endpoint, when known.
    public var region: String?
    /// How the endpoint was found, for `check-config` and the start-up log.
    public var endpointSource: String?
    /// TAILCAR_TEST_PROCESSORS=1: `processor_test_burn_cpu` is accepted (tests of `tailcar bench` only).
    public var allowsTestProcessors = false

    public init(userDefinedIDs: [String] = [], dataEndpoint: String? = nil, region: String? = nil,
                endpointSource: String? = nil) {
        self.userDefinedIDs = userDefinedIDs
        self.dataEndpoint = dataEndpoint
        self.region = region
        self.endpointSource = endpointSource
    }

    /// The ids for messages: `"web"`, `"web", "batch"`, or `(none)`.
    public var userDefinedIDsDescription: String {
        userDefinedIDs.isEmpty ? "(none)" : userDefinedIDs.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    /// Where the vendor image keeps further user-defined ids, one a line.
    public static let vendorUserDefinedIDFile = "/etc/ilogtail/user_defined_id"

    /// Reads the ids (the variable, then `userDefinedIDFile` when it exists) and the region's ilogtail_config.json
    /// at `logtailConfigPath` (ALIYUN_LOGTAIL_CONFIG), or derives the endpoint from the vendor's directory layout
    /// when the file is absent. Errors name the file and field.
    public static func load(userDefinedID: String?, logtailConfigPath: String?,
                            userDefinedIDFile: String = vendorUserDefinedIDFile) throws(ConfigError) -> SidecarContext {
        let fileIDs: [UInt8]?
        do {
            fileIDs = try readWholeFile(userDefinedIDFile)
        } catch {
            throw ConfigError(SourcePosition(file: userDefinedIDFile, line: 1, column: 1), error.description)
        }
        var context = SidecarContext(userDefinedIDs: userDefinedIDs(variable: userDefinedID, file: fileIDs))
        guard let path = logtailConfigPath, !path.isEmpty else { return context }
        let start = SourcePosition(file: path, line: 1, column: 1)
        let bytes: [UInt8]?
        do {
            bytes = try readWholeFile(path)
        } catch {
            throw ConfigError(start, "ALIYUN_LOGTAIL_CONFIG: \(error.description)")
        }
        guard let bytes else {
            guard let derived = derivedEndpoint(path) else {
                throw ConfigError(start, "ALIYUN_LOGTAIL_CONFIG names a file that does not exist, outside the "
                                  + "/etc/ilogtail/conf/<region>[-internet]/ilogtail_config.json layout")
            }
            context.dataEndpoint = derived.endpoint
            context.region = derived.region
            context.endpointSource = "derived from the directory of ALIYUN_LOGTAIL_CONFIG=\(path) (no such file)"
            return context
        }
        let found = try endpoint(in: bytes, file: path)
        context.dataEndpoint = found.endpoint
        context.region = found.region
        context.endpointSource = "\(found.field) of \(path)"
        return context
    }

    /// `ALIYUN_LOGTAIL_USER_DEFINED_ID` split on commas, then the id file's lines, trimmed, empties and
    /// repeats dropped, first occurrence first.
    static func userDefinedIDs(variable: String?, file: [UInt8]?) -> [String] {
        var ids: [String] = []
        let fromVariable = (variable ?? "").split(separator: ",").map(String.init)
        let fromFile = String(decoding: file ?? [], as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map(String.init)
        for raw in fromVariable + fromFile {
            let id = String(raw.trimmingWhitespace)
            if !id.isEmpty, !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// The data endpoint in either format: `data_server_list[0].endpoint` and `.cluster` (Logtail), or
    /// `data_servers[0].endpoint_list[0]` and `.region` (LoongCollector, falling back to `primary_region`).
    /// Other keys of the agent's own tuning are not read here.
    static func endpoint(in bytes: [UInt8], file: String) throws(ConfigError) -> (endpoint: String, region: String?, field: String) {
        let documents = try YAMLReader.documents(bytes, file: file)
        guard let root = documents.first(where: { !$0.isNull }), case .mapping = root.node else {
            throw ConfigError(SourcePosition(file: file, line: 1, column: 1), "expected a JSON object (ilogtail_config.json)")
        }
        if root.member("data_server_list") == nil, let servers = root.member("data_servers") {
            return try loongCollectorEndpoint(servers, root: root)
        }
        guard let list = root.member("data_server_list") else {
            throw ConfigError(root.position, field: "data_server_list",
                              "is required (or data_servers): the list of {cluster, endpoint} the data goes to")
        }
        guard case .sequence(let servers) = list.node, let first = servers.first else {
            throw ConfigError(list.position, field: "data_server_list", "expected a non-empty list of {cluster, endpoint}")
        }
        guard let endpoint = first.member("endpoint"), case .scalar(let text, _) = endpoint.node, !text.isEmpty else {
            throw ConfigError(first.position, field: "data_server_list[0].endpoint", "is required: the SLS endpoint, e.g. cn-hangzhou-intranet.log.aliyuncs.com")
        }
        var region: String?
        if let cluster = first.member("cluster"), case .scalar(let name, _) = cluster.node, !name.isEmpty { region = name }
        return (text, region, "data_server_list[0].endpoint")
    }

    private static func loongCollectorEndpoint(_ servers: ConfigValue, root: ConfigValue) throws(ConfigError)
        -> (endpoint: String, region: String?, field: String) {
        guard case .sequence(let list) = servers.node, let first = list.first else {
            throw ConfigError(servers.position, field: "data_servers", "expected a non-empty list of {region, endpoint_list}")
        }
        guard let endpoints = first.member("endpoint_list"), case .sequence(let names) = endpoints.node,
              let name = names.first, case .scalar(let text, _) = name.node, !text.isEmpty else {
            throw ConfigError(first.position, field: "data_servers[0].endpoint_list",
                              "is required: a non-empty list of SLS endpoints, e.g. [cn-hangzhou-intranet.log.aliyuncs.com]")
        }
        var region: String?
        for candidate in [first.member("region"), root.member("primary_region")] {
            if region == nil, let node = candidate, case .scalar(let value, _) = node.node, !value.isEmpty { region = value }
        }
        return (text, region, "data_servers[0].endpoint_list[0]")
    }

    /// `/etc/ilogtail/conf/<region>[-internet]/ilogtail_config.json` -> the region's documented endpoint.
    static func derivedEndpoint(_ path: String) -> (endpoint: String, region: String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 2, parts[parts.count - 1] == "ilogtail_config.json" else { return nil }
        let directory = parts[parts.count - 2]
        let regionName = directory.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard parts.count >= 3, parts[parts.count - 3] == "conf", regionName, directory.contains("-") else { return nil }
        let suffix = "-internet"
        if directory.hasSuffix(suffix) {
            let region = String(directory.dropLast(suffix.count))
            return region.isEmpty ? nil : (region + ".log.aliyuncs.com", region)
        }
        return (directory + "-intranet.log.aliyuncs.com", directory)
    }
}
