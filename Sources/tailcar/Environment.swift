// Environment.swift
//
// The one place Tailcar reads its environment: the Logtail sidecar contract (ALIYUN_LOGTAIL_USER_DEFINED_ID,
// ALIYUN_LOGTAIL_CONFIG, ALIYUN_LOG_ENV_TAGS and the variables it names) and Tailcar's own TAILCAR_* defaults.
// LoongCollector's names are read first where it has one (LOONG_USER_DEFINED_ID, LOONG_CONFIG,
// LOONG_ENV_TAGS and LOONG_LOG_ENV_TAGS), as its AppConfig does. The vendor agent's tuning variables
// (enable_full_drain_mode, mem_usage_limit, max_bytes_per_sec, ... and their LOONG_ names) are collected
// as read for VendorAgentSettings; TZ (or a mounted /etc/localtime) reaches Tailcar through glibc's
// localtime_r as the local zone's offset at start.

import Glibc
import TailcarCore

struct Environment {
    /// TAILCAR_CONFIG: what `run` and `check-config` load when no path is given.
    var config: String?
    /// ALIYUN_LOGTAIL_USER_DEFINED_ID (or LOONG_USER_DEFINED_ID): comma-separated ids; resources apply when
    /// their machineGroups name one of them or of the lines of `userDefinedIDFile`.
    var userDefinedID: String?
    /// TAILCAR_USER_DEFINED_ID_FILE, default the vendor's /etc/ilogtail/user_defined_id.
    var userDefinedIDFile: String = SidecarContext.vendorUserDefinedIDFile
    /// ALIYUN_LOGTAIL_CONFIG: the region's ilogtail_config.json (the SLS data endpoint).
    var logtailConfig: String?
    var checkpointDirectory: String?
    var stopDelay: String?
    var httpPort: String?
    /// TAILCAR_TASK_DIR, TAILCAR_CORNERSTONE, TAILCAR_TOMBSTONE: the Job handshake files.
    var taskDirectory: String?
    var cornerstone: String?
    var tombstone: String?
    /// ALIYUN_LOG_ENV_TAGS names variables, separated by `|`; each present one becomes a tag; then
    /// `__hostname__` (AgentTags).
    var envTags: [(key: String, value: String)]
    /// The pod IP from the Downward API (`_pod_ip_` in the vendor's manifests), for SLS's `__source__`.
    var podIP: String? = nil
    /// The vendor agent's variables that are set, by name (VendorAgentSettings.variableNames).
    var vendorVariables: [String: String] = [:]
    /// The local zone's UTC offset now (TZ, else /etc/localtime, else UTC): times without a zone are read
    /// in it, as Logtail reads them in the machine's zone.
    var localTimeOffsetSeconds = 0
    /// TAILCAR_TEST_PROCESSORS=1: test-only processors (processor_test_burn_cpu) are accepted. Never set it
    /// in production.
    var allowsTestProcessors = false
    /// TAILCAR_GEN: the tailcar-gen binary `tailcar bench` runs when no sample is given.
    var generator: String?
    /// Reads a variable by name (credentials are looked up through this, never stored here).
    var lookup: (String) -> String? = { _ in nil }

    static func current() -> Environment {
        func get(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let envTagNames = get("LOONG_ENV_TAGS") ?? get("LOONG_LOG_ENV_TAGS") ?? get("ALIYUN_LOG_ENV_TAGS")
        let tags = AgentTags.make(envTagNames: envTagNames, hostname: AgentTags.hostname(), lookup: get)
        var vendor: [String: String] = [:]
        for name in VendorAgentSettings.variableNames { vendor[name] = get(name) }
        var environment = Environment(config: get("TAILCAR_CONFIG"),
                           userDefinedID: get("LOONG_USER_DEFINED_ID") ?? get("ALIYUN_LOGTAIL_USER_DEFINED_ID"),
                           userDefinedIDFile: get("TAILCAR_USER_DEFINED_ID_FILE") ?? SidecarContext.vendorUserDefinedIDFile,
                           logtailConfig: get("LOONG_CONFIG") ?? get("ALIYUN_LOGTAIL_CONFIG"),
                           checkpointDirectory: get("TAILCAR_CHECKPOINT_DIR"), stopDelay: get("TAILCAR_STOP_DELAY"),
                           httpPort: get("TAILCAR_HTTP_PORT"), taskDirectory: get("TAILCAR_TASK_DIR"),
                           cornerstone: get("TAILCAR_CORNERSTONE"), tombstone: get("TAILCAR_TOMBSTONE"),
                           envTags: tags, podIP: get("_pod_ip_") ?? get("POD_IP"), lookup: get)
        environment.vendorVariables = vendor
        environment.allowsTestProcessors = get("TAILCAR_TEST_PROCESSORS") == "1"
        environment.generator = get("TAILCAR_GEN")
        environment.localTimeOffsetSeconds = localOffsetSeconds()
        return environment
    }

    /// glibc's offset of local time from UTC now (tzset reads TZ and /etc/localtime).
    private static func localOffsetSeconds() -> Int {
        tzset()
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return 0 }
        return local.tm_gmtoff
    }
}
