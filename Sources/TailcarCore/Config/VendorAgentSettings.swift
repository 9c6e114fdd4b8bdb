// VendorAgentSettings.swift
//
// The vendor agent's own tuning, as the Logtail and LoongCollector images read it, resolved into what
// Tailcar acts on and what it only reports. Sources, strongest first (LoongCollector's
// LoadEnvResourceLimit applies the environment after the JSON for the resource keys):
//
//   env LOONG_<KEY>, env <key>  ->  ilogtail_config.json <key>  ->  unset
//
//   mem_usage_limit=512 (env) + {"mem_usage_limit": 100}  -> memoryLimitBytes 512 MiB
//   max_bytes_per_sec=1000 (env)                           -> nil, noted: below the vendor minimum 1 MiB/s
//   cpu_usage_limit=2 (env)                                -> noted once: read, not acted on
//
// Minimums are LoongCollector's (values below are ignored, as it ignores them): cpu 0.4 cores, memory
// 384 MB, read rate 1 MiB/s, threads 1, send concurrency 10. Owns the resolution and the notes; does not
// read the environment (the executable does) nor apply the values (AgentOptions does).

public struct VendorAgentSettings: Sendable, Equatable {
    /// enable_full_drain_mode: after SIGTERM read every file to its end and deliver everything, no deadline.
    public var fullDrainMode = false
    /// mem_usage_limit in bytes: bounds the in-flight cap as a cgroup memory limit does.
    public var memoryLimitBytes: Int?
    /// max_bytes_per_sec: the read-rate limit, bytes a second, all files together.
    public var maxBytesPerSecond: Int?
    /// One line each: a setting read and not acted on, or a value ignored, with where it came from.
    public var notes: [String] = []

    public init() {}

    /// The five resource keys of §4 of VENDOR-ENTRYPOINTS.md, with their minimums.
    static let resourceMinimums: [(key: String, minimum: Double)] = [
        ("cpu_usage_limit", 0.4), ("mem_usage_limit", 384), ("max_bytes_per_sec", 1_048_576),
        ("process_thread_count", 1), ("send_request_concurrency", 10),
    ]

    /// Keys Tailcar acts on. The others of `resourceMinimums` are read and reported.
    static let actedOn: Set<String> = ["mem_usage_limit", "enable_full_drain_mode", "max_bytes_per_sec"]

    /// Variables the vendor agent reads that mean nothing to Tailcar; present ones are reported.
    public static let reportedVariables = [
        "ALIYUN_LOGTAIL_USER_ID", "working_ip", "ALIYUN_LOGTAIL_WORKING_IP", "LOONG_WORKING_IP", "working_hostname",
        "ALIYUN_LOGTAIL_WORKING_HOSTNAME", "docker_file_cache_path", "ALIYUN_LOGTAIL_DOCKER_FILE_CACHE_PATH",
        "HTTP_PROBE_PORT", "LOGTAIL_MODE", "LOGTAIL_LOG_LEVEL", "CONTAINERD_SOCK_PATH", "CONTAINERD_STATE_DIR",
        "LOONG_IGNORED_INTERFACES", "LOONG_CONF_DIR", "LOONG_LOGS_DIR", "LOONG_DATA_DIR", "LOONG_RUN_DIR",
        "LOONG_THIRD_PARTY_DIR",
    ]

    /// Keys of ilogtail_config.json that Tailcar reads elsewhere (SidecarContext) or that name the file's own
    /// servers; they are not reported.
    static let configKeysUsedElsewhere: Set<String> = ["data_server_list", "data_servers", "primary_region"]

    /// Every variable name this type looks at, for the executable to read.
    public static var variableNames: [String] {
        var names = ["enable_full_drain_mode", "LOONG_ENABLE_FULL_DRAIN_MODE"]
        for (key, _) in resourceMinimums { names += [key, "LOONG_" + key.uppercased()] }
        return names + reportedVariables
    }

    /// Reads ilogtail_config.json at `logtailConfigPath` (absent: the environment alone), then resolves.
    /// Errors name the file; SidecarContext.load reports the same file's endpoint problems.
    public static func load(variables: [String: String], logtailConfigPath: String?) throws(ConfigError) -> VendorAgentSettings {
        guard let path = logtailConfigPath, !path.isEmpty else { return resolve(variables: variables, config: nil, configFile: nil) }
        let bytes: [UInt8]?
        do {
            bytes = try readWholeFile(path)
        } catch {
            throw ConfigError(SourcePosition(file: path, line: 1, column: 1), "ALIYUN_LOGTAIL_CONFIG: \(error.description)")
        }
        guard let bytes else { return resolve(variables: variables, config: nil, configFile: nil) }
        let root = try YAMLReader.documents(bytes, file: path).first { !$0.isNull }
        return resolve(variables: variables, config: root, configFile: path)
    }

    /// Resolves `variables` (name -> value, as read) over `config` (the parsed ilogtail_config.json, if any;
    /// `configFile` names it in notes).
    public static func resolve(variables: [String: String], config: ConfigValue?, configFile: String?) -> VendorAgentSettings {
        var settings = VendorAgentSettings()
        let file = configFile ?? "ilogtail_config.json"
        func configScalar(_ key: String) -> String? {
            guard let node = config?.member(key), case .scalar(let text, _) = node.node else { return nil }
            return text
        }
        func lookup(_ key: String) -> (value: String, source: String)? {
            let loong = "LOONG_" + key.uppercased()
            if let value = variables[loong] { return (value, "env \(loong)") }
            if let value = variables[key] { return (value, "env \(key)") }
            return configScalar(key).map { ($0, file) }
        }
        if let (value, source) = lookup("enable_full_drain_mode") {
            switch value.lowercased() {
            case "true", "1", "yes", "y", "t": settings.fullDrainMode = true
            case "false", "0", "no", "n", "f", "": settings.fullDrainMode = false
            default: settings.notes.append("enable_full_drain_mode=\(value) (\(source)) ignored: expected true or false")
            }
        }
        for (key, minimum) in resourceMinimums {
            guard let (value, source) = lookup(key) else { continue }
            guard let number = Double(value), number.isFinite else {
                settings.notes.append("\(key)=\(value) (\(source)) ignored: not a number")
                continue
            }
            guard number >= minimum else {
                settings.notes.append("\(key)=\(value) (\(source)) ignored: below the vendor's minimum \(format(minimum))")
                continue
            }
            switch key {
            case "mem_usage_limit": settings.memoryLimitBytes = Int(min(number, 1_048_576)) << 20
            case "max_bytes_per_sec": settings.maxBytesPerSecond = Int(min(number, Double(Int.max / 2)))
            default: break
            }
            if !actedOn.contains(key) { settings.notes.append("\(key)=\(value) (\(source)) read, not acted on") }
        }
        settings.notes += reported(variables: variables, config: config, file: file)
        return settings
    }

    private static func reported(variables: [String: String], config: ConfigValue?, file: String) -> [String] {
        var notes: [String] = []
        for name in reportedVariables where variables[name] != nil {
            notes.append("\(name) (env) read, not acted on")
        }
        let known = Set(resourceMinimums.map(\.key)).union(actedOn).union(configKeysUsedElsewhere)
        if case .mapping(let members)? = config?.node {
            for member in members where !known.contains(member.key) {
                notes.append("\(member.key) (\(file)) read, not acted on")
            }
        }
        return notes
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// The one start-up note: every setting read and not acted on, or ignored; nil when there is none.
    public var startupNote: String? {
        notes.isEmpty ? nil : "vendor settings: " + notes.joined(separator: "; ")
    }
}
