// SizingRun.swift
//
// One budget of `tailcar bench`: calibrates the pipeline's CPU cost per line at low rates, then runs the
// rate search (RateSearch), each step a fresh child `tailcar run` placed in the budget (SizingRun+Step.swift).
// Without a way to enforce the budget it reports the estimate from CPU-seconds per MB, marked as such.
// Owns the budget's cgroup, its steps and its result.

import CLibUV
import Glibc

public enum BudgetBackend: Sendable, Equatable {
    case cgroup
    case podman(PodmanSettings)
    /// No enforcement: the child runs unconstrained and the rate is extrapolated from its CPU per line.
    case estimate(reason: String)
}

public struct PodmanSettings: Sendable, Equatable {
    public var image: String
    /// Global options before `run` (e.g. --root DIR --runroot DIR --storage-driver vfs).
    public var globalArguments: [String]
    public var executable: String

    public init(image: String, globalArguments: [String] = [], executable: String = "podman") {
        self.image = image
        self.globalArguments = globalArguments
        self.executable = executable
    }
}

public struct SizingPlan: Sendable {
    /// The tailcar binary the child runs (cgroup and estimate backends).
    public var tailcarBinary: String
    /// The user's configuration (file or directory) as the child reads it (inside workDirectory for podman).
    public var configPath: String
    public var flusher: FlusherOverride
    public var sample: SampleLines
    /// The confirming step's length (--seconds); probing steps are shorter.
    public var seconds: Double
    /// Created by the caller, removed by the caller; steps live in subdirectories removed after each step.
    public var workDirectory: String
    /// `-e` arguments of a podman container: NAME=VALUE, or a NAME alone whose value podman copies from
    /// this environment (credentials, so that they never appear on a command line).
    public var containerEnvironment: [String]
    /// NAME=VALUE entries the child run gets on top of this environment (in a container too).
    public var childEnvironment: [String]

    public init(tailcarBinary: String, configPath: String, flusher: FlusherOverride, sample: SampleLines,
                seconds: Double, workDirectory: String, containerEnvironment: [String] = [], childEnvironment: [String] = []) {
        self.tailcarBinary = tailcarBinary
        self.configPath = configPath
        self.flusher = flusher
        self.sample = sample
        self.seconds = seconds
        self.workDirectory = workDirectory
        self.containerEnvironment = containerEnvironment
        self.childEnvironment = childEnvironment
    }

    /// Probing steps: a quarter of the run, 2 to 10 s.
    var probeSeconds: Double { min(seconds, max(2, min(10, seconds / 4))) }
}

/// What the terminal shows while a step runs.
public struct SizingProgress: Sendable {
    public var budget: Budget
    public var phase: String
    public var targetLinesPerSecond: Double
    public var linesPerSecond: Double
    public var lagSeconds: Double
    public var cpuFraction: Double
    public var rssBytes: Int
}

public struct StepOutcome: Sendable {
    public var rate: Double
    public var seconds: Double
    public var verdict: LagVerdict
    /// Set when the child died or could not be started or read.
    public var failure: String?
    public var cpuFraction: Double
    public var peakRSSBytes: Int
    /// The bench itself could not write at the step's rate.
    public var writerBound = false
    public var held: Bool { failure == nil && verdict.held }
}

public struct BudgetResult: Sendable {
    public var budget: Budget
    public var linesPerSecond: Double?
    public var megabytesPerSecond: Double?
    public var peakRSSBytes: Int
    public var measured: Bool
    public var backend: String
    public var cpuSecondsPerMB: Double?
    public var note: String?
    public var steps: [StepOutcome]
}

public struct SizingInterrupted: Error {}

public final class SizingRun {
    let plan: SizingPlan
    let budget: Budget
    let backend: BudgetBackend
    let progress: (SizingProgress) -> Void
    var cgroup: CgroupBudget?
    var stepNumber = 0
    var steps: [StepOutcome] = []

    public init(plan: SizingPlan, budget: Budget, backend: BudgetBackend, progress: @escaping (SizingProgress) -> Void) {
        self.plan = plan
        self.budget = budget
        self.backend = backend
        self.progress = progress
    }

    /// Runs the whole search; throws SizingInterrupted after cleaning up when SIGINT or SIGTERM came.
    public func run() throws(SizingInterrupted) -> BudgetResult {
        defer { cgroup?.remove(); cgroup = nil }
        let backendName: String
        switch backend {
        case .cgroup:
            do {
                cgroup = try CgroupBudget(budget: budget, name: "tailcar-bench-\(getpid())-\(Int(budget.cpus * 1000))m-\(budget.memoryBytes >> 20)Mi")
            } catch {
                return failed("cgroup", note: error.description)
            }
            backendName = "cgroup \(cgroup!.version.rawValue)"
        case .podman:
            backendName = "podman"
        case .estimate:
            backendName = "estimate"
        }
        let bytesPerLine = plan.sample.averageLineBytes
        // Calibration: the CPU a line costs, at rates low enough to be held.
        var rate = min(200, max(5, 100_000 / bytesPerLine))
        var estimate: Double?
        var calibration: StepOutcome?
        for _ in 0..<4 {
            let step = try runStep(rate: rate, seconds: 2, phase: "calibrating")
            if let failure = step.failure, !step.verdict.held, step.peakRSSBytes == 0 {
                return failed(backendName, note: failure)
            }
            guard step.held else {
                rate /= 4
                continue
            }
            let cpusUsable = backendIsEstimate ? 1.0 : budget.cpus
            let predicted = rate * cpusUsable / max(step.cpuFraction, 1e-4)
            calibration = step
            estimate = predicted
            if predicted > 3 * rate {
                rate = predicted / 2
                continue
            }
            break
        }
        guard let estimate, let calibration else {
            return BudgetResult(budget: budget, linesPerSecond: nil, megabytesPerSecond: nil, peakRSSBytes: maxPeak,
                                measured: !backendIsEstimate, backend: backendName, cpuSecondsPerMB: nil,
                                note: "even \(format(rate * 4, decimals: 1)) lines/s was not held: "
                                    + (steps.last?.failure ?? steps.last?.verdict.description ?? ""), steps: steps)
        }
        let cpuSecondsPerMB = calibration.cpuFraction / (calibration.rate * bytesPerLine / 1e6)
        if case .estimate(let reason) = backend {
            let lines = budget.cpus / cpuSecondsPerMB * 1e6 / bytesPerLine
            return BudgetResult(budget: budget, linesPerSecond: lines, megabytesPerSecond: lines * bytesPerLine / 1e6,
                                peakRSSBytes: maxPeak, measured: false, backend: backendName,
                                cpuSecondsPerMB: cpuSecondsPerMB,
                                note: "estimate from \(format(cpuSecondsPerMB, decimals: 4)) CPU-seconds per MB: \(reason)",
                                steps: steps)
        }
        var search = RateSearch(estimate: estimate)
        var confirmed: StepOutcome?
        while let next = search.nextRate {
            let confirming = search.confirming
            let step = try runStep(rate: next, seconds: confirming ? plan.seconds : plan.probeSeconds,
                                   phase: confirming ? "confirming" : "searching")
            if confirming && step.held { confirmed = step }
            search.record(held: step.held)
        }
        let lines = search.result
        var note: String?
        // A step the bench could not write that was close above the result: the machine, not the budget, may
        // have stopped the search.
        if let bound = steps.last(where: { $0.writerBound && $0.rate <= (lines ?? 0) * 1.3 }), let failure = bound.failure {
            note = "a lower bound: the bench could not write faster (\(failure))"
        }
        if lines == nil {
            note = "no rate held for the whole run: " + (steps.last?.failure ?? steps.last?.verdict.description ?? "")
        }
        return BudgetResult(budget: budget, linesPerSecond: lines, megabytesPerSecond: lines.map { $0 * bytesPerLine / 1e6 },
                            peakRSSBytes: confirmed?.peakRSSBytes ?? maxPeak, measured: true, backend: backendName,
                            cpuSecondsPerMB: cpuSecondsPerMB, note: note, steps: steps)
    }

    private var backendIsEstimate: Bool {
        if case .estimate = backend { return true }
        return false
    }

    private var maxPeak: Int { steps.map(\.peakRSSBytes).max() ?? 0 }

    private func failed(_ backend: String, note: String) -> BudgetResult {
        BudgetResult(budget: budget, linesPerSecond: nil, megabytesPerSecond: nil, peakRSSBytes: maxPeak, measured: false,
                     backend: backend, cpuSecondsPerMB: nil, note: note, steps: steps)
    }
}

/// A TCP port on 127.0.0.1 free right now (the kernel's choice).
func unusedLoopbackPort() -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 ? getsockname(descriptor, pointer, &length) : -1
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// rm -rf without following symbolic links.
public func removeTree(_ path: String) {
    var status = stat()
    guard lstat(path, &status) == 0 else { return }
    if status.st_mode & S_IFMT == S_IFDIR {
        for entry in (try? directoryEntries(path)) ?? [] where entry.name != "." && entry.name != ".." {
            removeTree(joinPath(path, entry.name))
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}
