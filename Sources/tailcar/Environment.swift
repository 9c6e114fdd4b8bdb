// Environment.swift
//
// The one place Tailcar reads its environment: the Logtail sidecar contract (ALIYUN_LOG_ENV_TAGS and the
// variables it names) and Tailcar's own TAILCAR_* defaults.

import Glibc
import TailcarCore

struct Environment {
    var checkpointDirectory: String?
    var stopDelay: String?
    var httpPort: String?
    /// ALIYUN_LOG_ENV_TAGS names variables, separated by `|`; each present one becomes a tag; then
    /// `__hostname__` (AgentTags).
    var envTags: [(key: String, value: String)]
    /// The pod IP from the Downward API (`_pod_ip_` in the vendor's manifests), for SLS's `__source__`.
    var podIP: String? = nil
    /// Reads a variable by name (credentials are looked up through this, never stored here).
    var lookup: (String) -> String? = { _ in nil }

    static func current() -> Environment {
        func get(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let tags = AgentTags.make(envTagNames: get("ALIYUN_LOG_ENV_TAGS"), hostname: AgentTags.hostname(), lookup: get)
        return Environment(checkpointDirectory: get("TAILCAR_CHECKPOINT_DIR"), stopDelay: get("TAILCAR_STOP_DELAY"),
                           httpPort: get("TAILCAR_HTTP_PORT"), envTags: tags,
                           podIP: get("_pod_ip_") ?? get("POD_IP"), lookup: get)
    }
}
