// Bootstrapper.swift
//
// `tailcar bootstrap`: creates, through the SLS control-plane API, what each AliyunLogConfig resource's
// BootstrapPlan names, in the order the vendor's controller does: project, logstore, index, machine
// groups, config, then the config applied to each group. Idempotent: SLS's "already exists" answers count
// as success, and an application already listed for a group is not repeated. Calls go one at a time on a
// private libuv loop that runs until each answer. Owns the order and the meaning of answers; does not own
// the request bytes (ControlPlaneRequest) or printing (the executable).
//
//   project k8s-nginx-sidecar-demo: created [request 5F1C...]
//   logstore k8s-nginx-sidecar-demo/nginx-error: exists (LogStoreAlreadyExist) [request 77A0...]
//   config k8s-nginx-sidecar-demo/nginx-log-error-example: failed: SLS 401 SignatureNotMatch: ... [request ...]

import Glibc

/// What a bootstrap could not do, apart from SLS's own answers.
public enum BootstrapError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SLS answered with an error other than "already exists".
    case sls(SLSError)
    /// No answer: connect, TLS, timeout or a malformed response.
    case transport(String)
    /// The resource or the environment cannot make this call (no endpoint, a name SLS refuses, no AccessKey).
    case unusable(String)

    public var description: String {
        switch self {
        case .sls(let error): return error.description
        case .transport(let reason): return "no answer from SLS: \(reason)"
        case .unusable(let reason): return reason
        }
    }
}

public enum BootstrapOutcome: Sendable, Equatable, CustomStringConvertible {
    case created(requestID: String?)
    /// An existing Logtail config was replaced with the resource's (`updatesConfigs`).
    case updated(requestID: String?)
    /// `code` is SLS's "already exists" error code, or empty when a listing showed the resource.
    case exists(code: String, requestID: String?)
    case failed(BootstrapError)

    public var isFailure: Bool { if case .failed = self { true } else { false } }

    public var description: String {
        switch self {
        case .created(let id): return "created [request \(id ?? "none")]"
        case .updated(let id): return "updated [request \(id ?? "none")]"
        case let .exists(code, id): return "exists\(code.isEmpty ? "" : " (\(code))") [request \(id ?? "none")]"
        case .failed(let error): return "failed: \(error)"
        }
    }
}

/// One resource and what became of it.
public struct BootstrapStep: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case project, logstore, index
        case machineGroup = "machine group"
        case config
        case application = "config applied"
        case clickhouseDatabase = "clickhouse database"
        case clickhouseTable = "clickhouse table"
    }

    public var kind: Kind
    /// `project`, `project/logstore`, `project/group`, `project/config`, `project/config -> group`.
    public var name: String
    public var outcome: BootstrapOutcome

    public var resource: String { "\(kind.rawValue) \(name)" }
    public var description: String { "\(resource): \(outcome)" }
}

public final class Bootstrapper {
    private let credentials: CredentialSource
    private let caFile: String?
    private let epochSeconds: () -> Int
    private let timeouts: HTTPClientTimeouts
    /// When a config exists already, replace it with the resource's (UpdateConfig), as the vendor's
    /// controller does for a changed resource; `tailcar bootstrap` leaves it alone.
    public var updatesConfigs = false
    /// When set, create the vendor controller's default Kubernetes index (line plus pod-tag fields, this
    /// value as their doc_value) instead of the full-text line index `tailcar bootstrap` creates.
    public var kubernetesIndexDocValue: Bool?
    /// When set, CreateLogStore sends these members after ttl and shardCount (the vendor controller's settings).
    public var logstoreSettings: [JSONMember]?
    /// The description of a project this creates.
    public var projectDescription = "created by tailcar bootstrap"
    private var done: Set<String> = []
    /// Endpoints that gave no answer in this run: later calls to them fail at once with that error instead
    /// of each waiting out the connect timeout (`run --bootstrap` delays the start by that much).
    private var unreachable: [String: BootstrapError] = [:]

    public init(credentials: CredentialSource, caFile: String? = nil, timeouts: HTTPClientTimeouts = HTTPClientTimeouts(),
                epochSeconds: @escaping () -> Int = { Int(time(nil)) }) {
        self.credentials = credentials
        self.caFile = caFile
        self.timeouts = timeouts
        self.epochSeconds = epochSeconds
    }

    /// Bootstraps every pipeline that carries a plan (AliyunLogConfig resources), reporting each step as it
    /// ends. A resource already handled in this run (two resources in one project) is not asked again.
    public func run(_ pipelines: [PipelineSettings], report: (BootstrapStep) -> Void) -> [BootstrapStep] {
        var steps: [BootstrapStep] = []
        let session: Session
        do { session = try Session(caFile: caFile, timeouts: timeouts) } catch {
            let step = BootstrapStep(kind: .project, name: "(all)", outcome: .failed(.transport(error.description)))
            report(step)
            return [step]
        }
        for pipeline in pipelines {
            guard let plan = pipeline.bootstrap else { continue }
            run(plan, endpoint: endpointText(pipeline), session: session) { step in
                steps.append(step)
                report(step)
            }
        }
        session.close()
        return steps
    }

    private func endpointText(_ pipeline: PipelineSettings) -> String {
        for case .sls(let sls) in pipeline.flushers where !sls.endpoint.isEmpty { return sls.endpoint }
        return ""
    }

    private func run(_ plan: BootstrapPlan, endpoint text: String, session: Session, report: (BootstrapStep) -> Void) {
        let p = plan.project
        var steps: [(BootstrapStep.Kind, String, ControlPlaneCall, String)] = [
            (.project, p, .createProject(name: p, description: projectDescription), "ProjectAlreadyExist"),
            (.logstore, "\(p)/\(plan.logstore)",
             logstoreSettings.map { .createLogstoreWithSettings(name: plan.logstore, ttlDays: plan.lifeCycleDays,
                                                                shardCount: plan.shardCount, settings: $0) }
                ?? .createLogstore(name: plan.logstore, ttlDays: plan.lifeCycleDays, shardCount: plan.shardCount),
             "LogStoreAlreadyExist"),
            (.index, "\(p)/\(plan.logstore)",
             kubernetesIndexDocValue.map { .createKubernetesIndex(logstore: plan.logstore, docValue: $0) }
                ?? .createIndex(logstore: plan.logstore), "IndexAlreadyExist"),
        ]
        for group in plan.machineGroups {
            steps.append((.machineGroup, "\(p)/\(group)", .createMachineGroup(name: group, machineList: [group]),
                          "MachineGroupAlreadyExist"))
        }
        steps.append((.config, "\(p)/\(plan.configName)", .createConfig(plan.logtailConfig), "ConfigAlreadyExist"))
        let problem = unusable(plan, endpoint: text)
        for (kind, name, call, existsCode) in steps where done.insert("\(kind.rawValue) \(name)").inserted {
            let outcome = problem.map { BootstrapOutcome.failed($0) }
                ?? create(call, project: p, endpoint: text, existsCode: existsCode, session: session)
            report(BootstrapStep(kind: kind, name: name, outcome: outcome))
        }
        for group in plan.machineGroups {
            let name = "\(p)/\(plan.configName) -> \(group)"
            guard done.insert("\(BootstrapStep.Kind.application.rawValue) \(name)").inserted else { continue }
            let outcome = problem.map { BootstrapOutcome.failed($0) }
                ?? apply(plan.configName, to: group, project: p, endpoint: text, session: session)
            report(BootstrapStep(kind: .application, name: name, outcome: outcome))
        }
    }

    /// Why no call of `plan` can be made, if so: SLS needs an endpoint and names it accepts.
    private func unusable(_ plan: BootstrapPlan, endpoint: String) -> BootstrapError? {
        if endpoint.isEmpty {
            return .unusable("no SLS endpoint: set ALIYUN_LOGTAIL_CONFIG or logtailConfig.outputDetail.endpoint")
        }
        if plan.project.isEmpty { return .unusable("spec.project is empty: bootstrap needs the project's name") }
        if plan.machineGroups.isEmpty { return .unusable("spec.machineGroups is empty: the config would apply nowhere") }
        let names = [plan.project, plan.logstore, plan.configName] + plan.machineGroups
        if let bad = names.first(where: { !Self.isPathSafe($0) }) {
            return .unusable("name \"\(bad)\" has characters SLS does not allow (letters, digits, '-', '_', '.')")
        }
        return nil
    }

    static func isPathSafe(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    private func create(_ call: ControlPlaneCall, project: String, endpoint: String, existsCode: String,
                        session: Session) -> BootstrapOutcome {
        switch send(call, project: project, endpoint: endpoint, session: session) {
        case .failure(let error):
            if case .sls(let sls) = error, sls.code == existsCode {
                if updatesConfigs, case .createConfig(let body) = call, let name = body.member("configName"),
                   case .string(let configName) = name {
                    switch send(.updateConfig(name: configName, body), project: project, endpoint: endpoint, session: session) {
                    case .failure(let error): return .failed(error)
                    case .success(let response): return .updated(requestID: response.header("x-log-requestid"))
                    }
                }
                return .exists(code: sls.code, requestID: sls.requestID)
            }
            return .failed(error)
        case .success(let response):
            return .created(requestID: response.header("x-log-requestid"))
        }
    }

    /// ApplyConfigToMachineGroup succeeds again on a group that has the config, so the group's listing
    /// decides between "exists" and a new application.
    private func apply(_ config: String, to group: String, project: String, endpoint: String,
                       session: Session) -> BootstrapOutcome {
        switch send(.listAppliedConfigs(machineGroup: group), project: project, endpoint: endpoint, session: session) {
        case .failure(let error):
            return .failed(error)
        case .success(let listing):
            if Self.configNames(in: listing.body).contains(config) {
                return .exists(code: "", requestID: listing.header("x-log-requestid"))
            }
        }
        return create(.applyConfig(config: config, machineGroup: group), project: project, endpoint: endpoint,
                      existsCode: "", session: session)
    }

    /// The strings of the `"configs"` list of a ListAppliedConfigs answer (`{"count":1,"configs":["a"]}`).
    static func configNames(in body: [UInt8]) -> [String] {
        let key = Array("\"configs\"".utf8)
        guard let start = body.indices.first(where: { body[$0...].starts(with: key) }) else { return [] }
        var index = start + key.count
        while index < body.count, body[index] != UInt8(ascii: "[") { index += 1 }
        var names: [String] = []
        while index < body.count, body[index] != UInt8(ascii: "]") {
            if body[index] == UInt8(ascii: "\""), let name = SLSResponse.decodeJSONString(body, from: index + 1) {
                names.append(name)
                index += 1
                while index < body.count, body[index] != UInt8(ascii: "\"") {
                    index += body[index] == UInt8(ascii: "\\") ? 2 : 1
                }
            }
            index += 1
        }
        return names
    }

    private func send(_ call: ControlPlaneCall, project: String, endpoint text: String,
                      session: Session) -> Result<HTTPResponse, BootstrapError> {
        if let failure = unreachable[text] { return .failure(failure) }
        let endpoint: HTTPEndpoint
        let signing: Credentials
        do { endpoint = try HTTPEndpoint(parsing: text) } catch { return .failure(.unusable(error.description)) }
        do { signing = try credentials.current() } catch { return .failure(.unusable(error.description)) }
        let request = ControlPlaneRequest(call, project: project, authority: endpoint.authority,
                                          credentials: signing, epochSeconds: epochSeconds())
        let serverName = endpoint.hostIsIPLiteral ? endpoint.host : "\(project).\(endpoint.host)"
        switch session.exchange(request.wireBytes, endpoint: endpoint, serverName: serverName) {
        case .failure(let error):
            let failure = BootstrapError.transport(error.description)
            unreachable[text] = failure
            return .failure(failure)
        case .success(let response):
            if let error = SLSResponse.error(from: response) { return .failure(.sls(error)) }
            return .success(response)
        }
    }
}

/// A loop and a client that live for one bootstrap run; each exchange runs the loop until its answer.
final class Session {
    let loop: EventLoop
    let client: HTTPClient

    init(caFile: String?, timeouts: HTTPClientTimeouts) throws(LoopError) {
        loop = try EventLoop()
        client = HTTPClient(loop: loop, maxConnections: 1, timeouts: timeouts, caFile: caFile)
    }

    /// The client's connect and response timeouts bound how long this waits.
    func exchange(_ bytes: [UInt8], endpoint: HTTPEndpoint, serverName: String) -> Result<HTTPResponse, HTTPClientError> {
        var answer: Result<HTTPResponse, HTTPClientError>?
        client.send(bytes, to: endpoint, serverName: serverName) { [loop] result in
            answer = result
            loop.stop()
        }
        loop.run()
        return answer ?? .failure(.cancelled)
    }

    func close() {
        client.shutDown()
        loop.close()
    }
}
