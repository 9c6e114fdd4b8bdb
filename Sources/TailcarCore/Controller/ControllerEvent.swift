// ControllerEvent.swift
//
// The controller's observability funnel: each internal event is a typed value that updates the counters
// behind /metrics and writes one JSON object per line to standard error, in the agent's format:
//
//   {"time":1732668000.123,"level":"info","event":"reconciled","resource":"default/web","generation":2,...}
//
// Events carry names, codes and request ids, never a token or an AccessKey.

import Glibc

public enum ControllerEvent: Sendable {
    case started(identity: String, api: String, namespace: String?)
    case listed(resources: Int, version: String)
    case watchEnded(reason: String, retryInMilliseconds: UInt64)
    case relisting(reason: String)
    case reconciled(resource: ResourceKey, generation: Int, steps: [String])
    case reconcileFailed(resource: ResourceKey, generation: Int, reason: String, attempt: Int, retryInMilliseconds: UInt64)
    case deleted(resource: ResourceKey)
    case statusFailed(resource: ResourceKey, reason: String)
    case leaderElected(lease: String)
    case leaderLost(lease: String, reason: String)
    case leaseFailed(reason: String)
    case stopping(reason: String)

    var name: String {
        switch self {
        case .started: "controller_started"
        case .listed: "listed"
        case .watchEnded: "watch_ended"
        case .relisting: "relisting"
        case .reconciled: "reconciled"
        case .reconcileFailed: "reconcile_failed"
        case .deleted: "resource_deleted"
        case .statusFailed: "status_write_failed"
        case .leaderElected: "leader_elected"
        case .leaderLost: "leader_lost"
        case .leaseFailed: "lease_failed"
        case .stopping: "controller_stopping"
        }
    }

    var level: String {
        switch self {
        case .reconcileFailed, .statusFailed, .leaseFailed, .watchEnded, .leaderLost: "warn"
        default: "info"
        }
    }

    var fields: [JSONMember] {
        switch self {
        case let .started(identity, api, namespace):
            return [JSONMember("identity", .string(identity)), JSONMember("api", .string(api)),
                    JSONMember("watching", .string(namespace ?? "(all namespaces)"))]
        case let .listed(resources, version):
            return [JSONMember("resources", .int(resources)), JSONMember("resource_version", .string(version))]
        case let .watchEnded(reason, retry):
            return [JSONMember("reason", .string(reason)), JSONMember("retry_in_ms", .int(Int(retry)))]
        case .relisting(let reason): return [JSONMember("reason", .string(reason))]
        case let .reconciled(resource, generation, steps):
            return [JSONMember("resource", .string(resource.description)), JSONMember("generation", .int(generation)),
                    JSONMember("steps", .array(steps.map(JSONValue.string)))]
        case let .reconcileFailed(resource, generation, reason, attempt, retry):
            return [JSONMember("resource", .string(resource.description)), JSONMember("generation", .int(generation)),
                    JSONMember("reason", .string(reason)), JSONMember("attempt", .int(attempt)),
                    JSONMember("retry_in_ms", .int(Int(retry)))]
        case .deleted(let resource):
            return [JSONMember("resource", .string(resource.description)),
                    JSONMember("note", .string("the SLS project, logstore, machine group and config are left in place"))]
        case let .statusFailed(resource, reason):
            return [JSONMember("resource", .string(resource.description)), JSONMember("reason", .string(reason))]
        case .leaderElected(let lease): return [JSONMember("lease", .string(lease))]
        case let .leaderLost(lease, reason): return [JSONMember("lease", .string(lease)), JSONMember("reason", .string(reason))]
        case .leaseFailed(let reason): return [JSONMember("reason", .string(reason))]
        case .stopping(let reason): return [JSONMember("reason", .string(reason))]
        }
    }
}

/// Counters for /metrics.
public struct ControllerCounters: Sendable {
    public var reconciles: UInt64 = 0
    public var reconcileFailures: UInt64 = 0
    public var lists: UInt64 = 0
    public var watchRestarts: UInt64 = 0
    public var statusWriteFailures: UInt64 = 0
    public var leaderTransitions: UInt64 = 0
}

public final class ControllerLog {
    public private(set) var counters = ControllerCounters()
    private let output: Int32

    public init(output: Int32 = 2) { self.output = output }

    public func record(_ event: ControllerEvent) {
        switch event {
        case .reconciled: counters.reconciles += 1
        case .reconcileFailed: counters.reconcileFailures += 1
        case .listed: counters.lists += 1
        case .watchEnded: counters.watchRestarts += 1
        case .statusFailed: counters.statusWriteFailures += 1
        case .leaderElected: counters.leaderTransitions += 1
        default: break
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = Double(now.tv_sec) + Double(now.tv_nsec / 1_000_000) / 1000
        let object = JSONValue.object([JSONMember("time", .number(String(seconds))),
                                       JSONMember("level", .string(event.level)),
                                       JSONMember("event", .string(event.name))] + event.fields)
        var line = object.bytes
        line.append(0x0A)
        _ = line.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
    }
}

/// `2026-12-04T23:16:26Z`: the API's time format, for status and Lease times (MicroTime adds microseconds).
func rfc3339(epochSeconds: Int, microseconds: Int? = nil) -> String {
    var seconds = time_t(epochSeconds)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    var text = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
    if let microseconds { text += "." + pad(Int32(microseconds), 6) }
    return text + "Z"
}
