// SidecarContext.swift
//
// What the Logtail sidecar's environment contributes to configuration: which AliyunLogConfig resources
// apply to this sidecar (ALIYUN_LOGTAIL_USER_DEFINED_ID against spec.machineGroups) and the SLS data
// endpoint of the region (ALIYUN_LOGTAIL_CONFIG, the path of the region's ilogtail_config.json):
//
//   {"config_server_address": "http://logtail.cn-hangzhou-intranet.log.aliyuncs.com",
//    "data_server_list": [{"cluster": "cn-hangzhou", "endpoint": "cn-hangzhou-intranet.log.aliyuncs.com"}], ...}
//     -> endpoint "cn-hangzhou-intranet.log.aliyuncs.com", region "cn-hangzhou"
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
    /// ALIYUN_LOGTAIL_USER_DEFINED_ID. Nil: every resource applies, whatever its machineGroups.
    public var userDefinedID: String?
    /// The data endpoint for SLS flushers whose resource names none (from ALIYUN_LOGTAIL_CONFIG).
    public var dataEndpoint: String?
    /// The region of that endpoint, when known.
    public var region: String?
    /// How the endpoint was found, for `check-config` and the start-up log.
    public var endpointSource: String?

    public init(userDefinedID: String? = nil, dataEndpoint: String? = nil, region: String? = nil,
                endpointSource: String? = nil) {
        self.userDefinedID = userDefinedID
        self.dataEndpoint = dataEndpoint
        self.region = region
        self.endpointSource = endpointSource
    }

    /// Reads the region's ilogtail_config.json at `logtailConfigPath` (ALIYUN_LOGTAIL_CONFIG), or derives the
    /// endpoint from the vendor's directory layout when the file is absent. Errors name the file and field.
    public static func load(userDefinedID: String?, logtailConfigPath: String?) throws(ConfigError) -> SidecarContext {
        var context = SidecarContext(userDefinedID: userDefinedID.flatMap { $0.isEmpty ? nil : $0 })
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
        let (endpoint, region) = try endpoint(in: bytes, file: path)
        context.dataEndpoint = endpoint
        context.region = region
        context.endpointSource = "data_server_list[0].endpoint of \(path)"
        return context
    }

    /// `data_server_list[0].endpoint` and `.cluster`; other keys of the agent's own tuning are ignored.
    static func endpoint(in bytes: [UInt8], file: String) throws(ConfigError) -> (String, String?) {
        let documents = try YAMLReader.documents(bytes, file: file)
        guard let root = documents.first(where: { !$0.isNull }), case .mapping = root.node else {
            throw ConfigError(SourcePosition(file: file, line: 1, column: 1), "expected a JSON object (ilogtail_config.json)")
        }
        guard let list = root.member("data_server_list") else {
            throw ConfigError(root.position, field: "data_server_list", "is required: the list of {cluster, endpoint} the data goes to")
        }
        guard case .sequence(let servers) = list.node, let first = servers.first else {
            throw ConfigError(list.position, field: "data_server_list", "expected a non-empty list of {cluster, endpoint}")
        }
        guard let endpoint = first.member("endpoint"), case .scalar(let text, _) = endpoint.node, !text.isEmpty else {
            throw ConfigError(first.position, field: "data_server_list[0].endpoint", "is required: the SLS endpoint, e.g. cn-hangzhou-intranet.log.aliyuncs.com")
        }
        var region: String?
        if let cluster = first.member("cluster"), case .scalar(let name, _) = cluster.node, !name.isEmpty { region = name }
        return (text, region)
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
