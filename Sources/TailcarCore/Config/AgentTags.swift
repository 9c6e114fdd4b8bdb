// AgentTags.swift
//
// The tags every log group carries, as the Logtail sidecar attaches them: one per variable that
// ALIYUN_LOG_ENV_TAGS names (`_pod_name_|_pod_ip_|…`, in that order, absent ones skipped), then
// `__hostname__`, the host name (in a pod, the pod's name). Owns the rule; the environment is read by
// the executable (Sources/tailcar/Environment.swift) and the tags are attached by the runtime.

import Glibc

public enum AgentTags {
    public static let hostnameKey = "__hostname__"

    /// `envTagNames` is ALIYUN_LOG_ENV_TAGS as it stands; `lookup` reads one environment variable.
    public static func make(envTagNames: String?, hostname: String,
                            lookup: (String) -> String?) -> [(key: String, value: String)] {
        var tags: [(key: String, value: String)] = []
        for name in (envTagNames ?? "").split(separator: "|").map(String.init) where !name.isEmpty {
            if let value = lookup(name) { tags.append((name, value)) }
        }
        if !hostname.isEmpty { tags.append((hostnameKey, hostname)) }
        return tags
    }

    /// gethostname(2); empty when it fails (the tag is then left out).
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
