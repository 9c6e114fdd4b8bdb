// LeaseElector.swift
//
// One active controller at a time, through a coordination.k8s.io/v1 Lease, as client-go's leader election
// does: every retry period the elector reads the Lease; it takes it when absent, when it holds it already
// (a renewal), when it has no holder, or when the holder's record (holder and renewTime) has not changed for
// the lease's duration as observed on this process's monotonic clock (no trust in another node's clock).
// Every write is a replace with the resourceVersion read, so two contenders cannot both win: the loser gets
// 409. A leader that could not renew within the renew deadline stops acting. At shutdown the leader
// releases the Lease (no holder) so another takes over at once. Owns those rules; does not own the timer
// (Controller) or the API calls (KubeAPI).
//
//   follower --lease free or expired, replace ok--> leader --renew ok--> leader
//   leader --no renewal within renewDeadline, or another holder seen--> follower

public struct LeaseSettings: Sendable {
    public var name: String
    public var namespace: String
    public var identity: String
    public var durationSeconds: Int
    public var renewDeadlineMilliseconds: UInt64
    public var retryPeriodMilliseconds: UInt64

    public init(name: String, namespace: String, identity: String, durationSeconds: Int = 15,
                renewDeadlineMilliseconds: UInt64 = 10_000, retryPeriodMilliseconds: UInt64 = 2_000) {
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.durationSeconds = durationSeconds
        self.renewDeadlineMilliseconds = renewDeadlineMilliseconds
        self.retryPeriodMilliseconds = retryPeriodMilliseconds
    }
}

final class LeaseElector {
    enum Role: Equatable {
        case follower
        case leader(renewedAt: UInt64)
    }

    enum Change: Equatable {
        case none
        case elected
        case lost(String)
    }

    let settings: LeaseSettings
    private(set) var role = Role.follower
    private(set) var lastAttemptAt: UInt64?
    /// The holder record last read and when this process first saw it.
    private var observed: (record: String, at: UInt64)?
    /// Why the last attempt could not reach a decision (for the log, once per distinct reason).
    private(set) var lastProblem: String?
    private let epochClock: () -> (seconds: Int, microseconds: Int)

    init(settings: LeaseSettings, epochClock: @escaping () -> (seconds: Int, microseconds: Int)) {
        self.settings = settings
        self.epochClock = epochClock
    }

    var description: String { "\(settings.namespace)/\(settings.name)" }

    func isLeader(now: UInt64) -> Bool {
        guard case .leader(let renewedAt) = role else { return false }
        return now &- renewedAt < settings.renewDeadlineMilliseconds
    }

    /// One round of acquire-or-renew at monotonic `now` (milliseconds).
    func attempt(_ api: KubeAPI, now: UInt64) -> Change {
        lastAttemptAt = now
        let wasLeader = isLeader(now: now)
        let outcome = tryAcquireOrRenew(api, now: now)
        switch outcome {
        case .success(true):
            lastProblem = nil
            role = .leader(renewedAt: now)
            return wasLeader ? .none : .elected
        case .success(false):
            lastProblem = nil
            let had = role != .follower
            role = .follower
            return had ? .lost("another controller holds the lease") : .none
        case .failure(let error):
            let problem = error.description
            lastProblem = problem
            if case .leader = role, !isLeader(now: now) {
                role = .follower
                return .lost("not renewed within \(settings.renewDeadlineMilliseconds) ms: \(problem)")
            }
            return .none
        }
    }

    /// Gives the lease up (no holder, one-second duration) when this process holds it.
    func release(_ api: KubeAPI) {
        guard case .leader = role else { return }
        role = .follower
        guard case .success(let lease) = api.get(.leases, namespace: settings.namespace, name: settings.name),
              lease.member("spec")?.member("holderIdentity")?.text == settings.identity else { return }
        let record = LeaseRecord(lease)
        _ = api.replace(.leases, namespace: settings.namespace, name: settings.name,
                        body(holder: "", version: record.version, acquireTime: record.acquireTime,
                             transitions: record.transitions, duration: 1))
    }

    private struct LeaseRecord {
        var holder: String
        var renewTime: String
        var acquireTime: String
        var version: String
        var transitions: Int
        var durationSeconds: Int?

        init(_ lease: ConfigValue) {
            let spec = lease.member("spec")
            holder = spec?.member("holderIdentity")?.text ?? ""
            renewTime = spec?.member("renewTime")?.text ?? ""
            acquireTime = spec?.member("acquireTime")?.text ?? ""
            version = lease.member("metadata")?.member("resourceVersion")?.text ?? ""
            transitions = spec?.member("leaseTransitions")?.text.flatMap { Int($0) } ?? 0
            durationSeconds = spec?.member("leaseDurationSeconds")?.text.flatMap { Int($0) }
        }
    }

    private func tryAcquireOrRenew(_ api: KubeAPI, now: UInt64) -> Result<Bool, KubeAPIError> {
        switch api.get(.leases, namespace: settings.namespace, name: settings.name) {
        case .failure(let error) where error.code == 404:
            let created = api.create(.leases, namespace: settings.namespace,
                                     body(holder: settings.identity, version: nil, acquireTime: nil, transitions: 0,
                                          duration: settings.durationSeconds))
            switch created {
            case .success: observed = nil; return .success(true)
            case .failure(let error) where error.code == 409: return .success(false)
            case .failure(let error): return .failure(error)
            }
        case .failure(let error):
            return .failure(error)
        case .success(let lease):
            let record = LeaseRecord(lease)
            let key = record.holder + "|" + record.renewTime
            if observed?.record != key { observed = (key, now) }
            let mine = record.holder == settings.identity
            let duration = UInt64(max(1, record.durationSeconds ?? settings.durationSeconds)) * 1000
            if !mine, !record.holder.isEmpty, let seen = observed, now &- seen.at < duration {
                return .success(false)
            }
            let replaced = api.replace(.leases, namespace: settings.namespace, name: settings.name,
                                       body(holder: settings.identity, version: record.version,
                                            acquireTime: mine ? record.acquireTime : nil,
                                            transitions: mine ? record.transitions : record.transitions + 1,
                                            duration: settings.durationSeconds))
            switch replaced {
            case .success: observed = nil; return .success(true)
            case .failure(let error) where error.code == 409: return .success(false)
            case .failure(let error): return .failure(error)
            }
        }
    }

    private func body(holder: String, version: String?, acquireTime: String?, transitions: Int,
                      duration: Int) -> JSONValue {
        let clock = epochClock()
        let now = rfc3339(epochSeconds: clock.seconds, microseconds: clock.microseconds)
        var metadata = [JSONMember("name", .string(settings.name)), JSONMember("namespace", .string(settings.namespace))]
        if let version { metadata.append(JSONMember("resourceVersion", .string(version))) }
        return .object([
            JSONMember("apiVersion", .string("coordination.k8s.io/v1")), JSONMember("kind", .string("Lease")),
            JSONMember("metadata", .object(metadata)),
            JSONMember("spec", .object([
                JSONMember("holderIdentity", .string(holder)), JSONMember("leaseDurationSeconds", .int(duration)),
                JSONMember("acquireTime", .string(acquireTime.flatMap { $0.isEmpty ? nil : $0 } ?? now)),
                JSONMember("renewTime", .string(now)), JSONMember("leaseTransitions", .int(transitions)),
            ])),
        ])
    }
}
