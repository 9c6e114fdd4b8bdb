// ConsolePoller.swift
//
// Follows the SLS console from the agent's loop: a discovery round finds the machine groups that hold
// this sidecar's ids (again every `discoveryInterval`), a poll round fetches the configs applied to them
// (every `controlInterval`). Requests go one at a time through the flusher's HTTP client, signed with the
// flusher's credentials; a round that fails keeps what the last good one found and is retried with
// back-off. Owns the phases, the timing and the turning of HTTP answers into replies; does not own the
// call order (ConsoleRounds) or what the configs become (ConsoleControl).
//
//   idle --start--> discovering --groups--> polling --configs--> waiting --interval--> polling ...
//                                                                         --discovery due--> discovering
//   discovering, polling --error--> waiting (back-off: the interval doubled per failure, at most 5 min)
//   any --stop--> stopped

import Glibc

final class ConsolePoller {
    struct Settings: Sendable {
        var endpoint: HTTPEndpoint
        /// TAILCAR_SLS_PROJECTS; nil: every project ListProject shows.
        var projects: [String]?
        var ids: [String]
        var controlInterval: Duration = .seconds(10)
        var discoveryInterval: Duration = .seconds(300)
    }

    enum Phase {
        case idle
        case discovering(DiscoveryRound)
        case polling(PollRound)
        case waiting
        case stopped
    }

    /// What one round ended with; `requests` counts the calls it made (a discovery and its poll together),
    /// `afterFailures` the failed rounds just before it.
    enum Outcome {
        case configs([ConsoleConfig], groups: [ConsoleGroup], requests: Int, afterFailures: Int)
        case failed(ConsoleError, retryInMilliseconds: UInt64)
    }

    /// The longest back-off after failures.
    static let maxBackoffMilliseconds: UInt64 = 300_000

    private let loop: EventLoop
    private let client: HTTPClient
    private let credentials: CredentialSource
    let settings: Settings
    private let timer: LoopTimer
    private(set) var phase = Phase.idle
    private var groups: [ConsoleGroup]?
    private var lastDiscovery: UInt64 = 0
    private var kinds: [String: ConsoleConfig.Kind] = [:]
    private var failures = 0
    private var requests = 0

    var onRound: (Outcome) -> Void = { _ in }
    /// A discovery ended: projects looked at, groups seen, the groups that apply.
    var onDiscovery: (_ projects: Int, _ groupsSeen: Int, _ matched: [ConsoleGroup]) -> Void = { _, _, _ in }

    init(loop: EventLoop, client: HTTPClient, credentials: CredentialSource, settings: Settings) throws(LoopError) {
        self.loop = loop
        self.client = client
        self.credentials = credentials
        self.settings = settings
        timer = try LoopTimer(loop: loop)
        timer.onFire = { [unowned self] in self.beginRound() }
    }

    func start() { beginRound() }

    func stop() {
        phase = .stopped
        timer.close()
    }

    private func beginRound() {
        switch phase {
        case .idle, .waiting: break
        case .discovering, .polling, .stopped: return
        }
        requests = 0
        if let groups, loop.nowMilliseconds &- lastDiscovery < settings.discoveryInterval.milliseconds {
            phase = .polling(PollRound(groups: groups, kinds: kinds))
        } else {
            phase = .discovering(DiscoveryRound(projects: settings.projects, ids: settings.ids))
        }
        advance()
    }

    private func advance() {
        switch phase {
        case .discovering(let round):
            guard let step = round.next else { return finishDiscovery(round) }
            send(step.call)
        case .polling(let round):
            guard let step = round.next else { return finishPoll(round) }
            send(step.call)
        case .idle, .waiting, .stopped:
            return
        }
    }

    private func finishDiscovery(_ round: DiscoveryRound) {
        groups = round.matched
        lastDiscovery = loop.nowMilliseconds
        onDiscovery(round.projects.count, round.groupsSeen, round.matched)
        phase = .polling(PollRound(groups: round.matched, kinds: kinds))
        advance()
    }

    private func finishPoll(_ round: PollRound) {
        kinds = round.kinds
        let failed = failures
        failures = 0
        phase = .waiting
        onRound(.configs(round.configs, groups: groups ?? [], requests: requests, afterFailures: failed))
        schedule(settings.controlInterval.milliseconds)
    }

    private func fail(_ error: ConsoleError) {
        failures += 1
        let base = max(1, settings.controlInterval.milliseconds)
        let wait = min(Self.maxBackoffMilliseconds, base << UInt64(min(failures - 1, 20)))
        phase = .waiting
        onRound(.failed(error, retryInMilliseconds: wait))
        schedule(wait)
    }

    private func schedule(_ milliseconds: UInt64) {
        guard case .waiting = phase else { return }
        timer.start(afterMilliseconds: milliseconds)
    }

    private func send(_ target: (project: String, call: ControlPlaneCall)) {
        let signing: Credentials
        do { signing = try credentials.current() } catch { return fail(.credentials(error.description)) }
        let endpoint = settings.endpoint
        let request = ControlPlaneRequest(target.call, project: target.project, authority: endpoint.authority,
                                          credentials: signing, epochSeconds: Int(time(nil)))
        let name = "GET \(target.project.isEmpty ? "" : target.project + ":")\(request.path)"
        let serverName = endpoint.hostIsIPLiteral || target.project.isEmpty ? endpoint.host : "\(target.project).\(endpoint.host)"
        requests += 1
        client.send(request.wireBytes, to: endpoint, serverName: serverName) { [weak self] result in
            self?.receive(result, call: name)
        }
    }

    private func receive(_ result: Result<HTTPResponse, HTTPClientError>, call: String) {
        let reply: ConsoleReply
        do throws(ConsoleError) {
            reply = try Self.reply(result, call: call)
        } catch {
            if case .stopped = phase { return }
            return fail(error)
        }
        do throws(ConsoleError) {
            switch phase {
            case .discovering(var round):
                try round.take(reply, call: call)
                phase = .discovering(round)
            case .polling(var round):
                try round.take(reply, call: call)
                phase = .polling(round)
            case .idle, .waiting, .stopped:
                return
            }
        } catch {
            return fail(error)
        }
        advance()
    }

    /// 200 with a JSON object, or 404 with a not-exist code; anything else is the round's error.
    static func reply(_ result: Result<HTTPResponse, HTTPClientError>, call: String) throws(ConsoleError) -> ConsoleReply {
        switch result {
        case .failure(let error):
            throw .transport(call: call, error.description)
        case .success(let response):
            if let error = SLSResponse.error(from: response) {
                guard error.status == 404, ConsoleReply.goneCodes.contains(error.code) else { throw .sls(call: call, error) }
                return .gone(error)
            }
            return .found(try ConsoleAnswer.document(response.body, call: call), body: response.body)
        }
    }
}
