// ConsoleConfig.swift
//
// What the SLS console holds for this sidecar, as values: a machine group whose custom identifiers name
// one of the sidecar's user-defined ids, and a config applied to it with its body exactly as GetConfig
// (or GetLogtailPipelineConfig) answered it. Owns those values and the errors of talking to the control
// plane; does not own fetching (ConsolePoller), turning a body into a pipeline (ConsoleConfigLoader) or the
// cache file (ConsoleCache).

/// A machine group that applies here: `machineIdentifyType` is `userdefined` and `machineList` holds one
/// of the sidecar's ids.
public struct ConsoleGroup: Sendable, Equatable, Hashable {
    public var project: String
    public var name: String
    /// `groupAttribute.groupTopic`: the topic of configs with `topicFormat: group_topic`.
    public var topic: String

    public init(project: String, name: String, topic: String) {
        self.project = project
        self.name = name
        self.topic = topic
    }
}

/// One config applied to a group that applies here.
public struct ConsoleConfig: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// `GET /configs/{name}`: the Logtail config object (`inputDetail`, `outputDetail`).
        case logtail
        /// `GET /pipelineconfigs/{name}`: the iLogtail pipeline (`inputs`, `processors`, `flushers`).
        case pipeline
    }

    public var group: ConsoleGroup
    public var name: String
    public var kind: Kind
    /// The answer's JSON body, unmodified.
    public var body: [UInt8]

    public init(group: ConsoleGroup, name: String, kind: Kind, body: [UInt8]) {
        self.group = group
        self.name = name
        self.kind = kind
        self.body = body
    }

    /// `sls:project/config via group`, what `check-config` and messages show as the pipeline's origin.
    public var origin: String { "sls:\(group.project)/\(name) via \(group.name)" }
}

/// Why a control-plane round ended without an answer set. Never carries a secret.
public enum ConsoleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SLS answered an error: its code, message and request id.
    case sls(call: String, SLSError)
    /// No answer: connect, TLS, timeout or a malformed HTTP response.
    case transport(call: String, String)
    /// An answer that is not the JSON shape the API documents.
    case malformed(call: String, String)
    /// No credentials, or a credentials file that cannot be read.
    case credentials(String)

    public var description: String {
        switch self {
        case let .sls(call, error): return "\(call): \(error)"
        case let .transport(call, reason): return "\(call): no answer from SLS: \(reason)"
        case let .malformed(call, reason): return "\(call): unexpected answer: \(reason)"
        case .credentials(let reason): return reason
        }
    }

    /// The SLS error code, when SLS gave one (for the event and the back-off choice).
    public var code: String? { if case .sls(_, let error) = self, !error.code.isEmpty { error.code } else { nil } }
}
