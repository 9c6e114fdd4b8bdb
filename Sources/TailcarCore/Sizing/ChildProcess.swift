// ChildProcess.swift
//
// A process `tailcar bench` starts (the child `tailcar run`, podman, tailcar-gen): posix_spawn in its own
// process group with default signal handling and an empty signal mask (the bench blocks SIGINT and SIGTERM
// to take them synchronously), polled without blocking, and stopped by SIGTERM then SIGKILL. Owns the pid
// until it is reaped; reading its CPU and memory from /proc is here too.

import Glibc

public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signalled(let signal): return signal == SIGKILL ? "was killed (SIGKILL: the memory limit's OOM killer, or a stop)"
            : "was killed by signal \(signal)"
        }
    }
}

public final class ChildProcess {
    public let pid: pid_t
    public private(set) var exit: ChildExit?

    /// `output`: a file for the child's stdout and stderr (nil: /dev/null); `environment`: NAME=VALUE
    /// entries added to (and overriding) this process's environment.
    public init(_ argv: [String], output: String? = nil, environment extra: [String] = []) throws(SystemError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var cArguments = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var variables: [UnsafeMutablePointer<CChar>?] = []
        let overridden = Set(extra.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 })
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if !overridden.contains(name) { variables.append(strdup(pointer)) }
            entry += 1
        }
        variables += extra.map { strdup($0) }
        variables.append(nil)
        defer { for variable in variables { free(variable) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, argv[0], &actions, &attributes, cArguments, variables)
        guard result == 0 else { throw SystemError(operation: "posix_spawn", path: argv[0], code: result) }
        pid = child
    }

    /// Reaps the child if it has exited; true while it runs.
    public func isRunning() -> Bool {
        guard exit == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exit = Self.decode(status)
            return false
        }
        return result == 0
    }

    /// Waits at most `timeout` seconds for the child to exit; true if it did.
    @discardableResult
    public func wait(timeout: Double) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while isRunning() {
            if monotonicSeconds() >= deadline { return false }
            pause(seconds: 0.01)
        }
        return true
    }

    /// SIGTERM (a graceful stop for `tailcar run`), then SIGKILL after `grace` seconds; always reaps.
    public func stop(grace: Double = 5) {
        guard isRunning() else { return }
        kill(pid, SIGTERM)
        if wait(timeout: grace) { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        if waitpid(pid, &status, 0) == pid { exit = Self.decode(status) }
    }

    private static func decode(_ status: Int32) -> ChildExit {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

/// What /proc shows of a running process: CPU time in seconds and resident memory in bytes.
public struct ProcessUsage: Sendable, Equatable {
    public var cpuSeconds: Double
    public var rssBytes: Int
    /// VmHWM: the peak resident size so far.
    public var peakRSSBytes: Int

    /// Nil when the process is gone. CPU from /proc/PID/schedstat (nanoseconds on a CPU), memory from
    /// /proc/PID/status.
    public static func of(_ pid: pid_t) -> ProcessUsage? {
        guard let schedstat = try? readWholeFile("/proc/\(pid)/schedstat"),
              let status = try? readWholeFile("/proc/\(pid)/status") else { return nil }
        let running = String(decoding: schedstat, as: UTF8.self).split(separator: " ").first.flatMap { Double($0) } ?? 0
        var usage = ProcessUsage(cpuSeconds: running / 1e9, rssBytes: 0, peakRSSBytes: 0)
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { usage.rssBytes = kib * 1024 }
            if fields[0] == "VmHWM:" { usage.peakRSSBytes = kib * 1024 }
        }
        return usage
    }
}

public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Sleeps `seconds` unless SIGINT or SIGTERM (blocked by `InterruptGuard`) arrives; returns the signal taken,
/// or 0.
@discardableResult
public func pause(seconds: Double) -> Int32 {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGINT)
    sigaddset(&signals, SIGTERM)
    var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    let taken = sigtimedwait(&signals, nil, &timeout)
    if taken > 0 { InterruptGuard.interrupted = taken }
    return max(taken, 0)
}

/// SIGINT and SIGTERM blocked in the bench so that they are taken by `pause`, which records the first one:
/// the bench then stops its child, removes its cgroups and files, and exits.
public enum InterruptGuard {
    nonisolated(unsafe) public static var interrupted: Int32 = 0

    public static func install() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigprocmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// True once a signal was taken; also takes one that is pending now.
    public static var isInterrupted: Bool {
        if interrupted == 0 {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 { pause(seconds: 0) }
        }
        return interrupted != 0
    }
}
