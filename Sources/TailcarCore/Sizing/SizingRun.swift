// SizingRun.swift
//
// One budget of `tailcar bench`: calibrates the pipeline's CPU cost per line at low rates, then runs the
// rate search (RateSearch), each step a fresh child `tailcar run` placed in the budget (a child cgroup, or a
// podman container with --cpus and --memory) reading the replayed sample, its lag and counters read from its
// /metrics, its CPU and memory from /proc. Without a way to enforce the budget it reports the estimate from
// CPU-seconds per MB, marked as such. Owns the child, its step directories and the per-budget result.

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

    public init(tailcarBinary: String, configPath: String, flusher: FlusherOverride, sample: SampleLines,
                seconds: Double, workDirectory: String, containerEnvironment: [String] = []) {
        self.tailcarBinary = tailcarBinary
        self.configPath = configPath
        self.flusher = flusher
        self.sample = sample
        self.seconds = seconds
        self.workDirectory = workDirectory
        self.containerEnvironment = containerEnvironment
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
    private var cgroup: CgroupBudget?
    private var stepNumber = 0
    private var steps: [StepOutcome] = []

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
        if steps.contains(where: \.writerBound) {
            note = "a lower bound: the bench could not write faster (\(steps.last(where: \.writerBound)!.failure!))"
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

    // MARK: - One step

    private func runStep(rate: Double, seconds: Double, phase: String) throws(SizingInterrupted) -> StepOutcome {
        stepNumber += 1
        let directory = plan.workDirectory + "/step-\(stepNumber)"
        mkdir(directory, 0o755)
        defer { removeTree(directory) }
        var outcome = StepOutcome(rate: rate, seconds: seconds, verdict: .tooFewSamples, failure: nil, cpuFraction: 0,
                                  peakRSSBytes: 0)
        defer { steps.append(outcome) }
        let logPath = directory + "/bench.log"
        let replayer: SampleReplayer
        do {
            replayer = try SampleReplayer(path: logPath, sample: plan.sample)
        } catch {
            outcome.failure = error.description
            return outcome
        }
        let port = unusedLoopbackPort()
        let runArguments = ["run", "--config", plan.configPath, "--replace-inputs", logPath,
                            "--replace-flushers", plan.flusher.argument, "--checkpoint-dir", directory + "/state",
                            "--http-port", "\(port)", "--no-reload", "--no-task-files", "--no-sls-configs"]
        let child: ChildProcess
        var containerName: String?
        do {
            switch backend {
            case .cgroup, .estimate:
                child = try ChildProcess([plan.tailcarBinary] + runArguments, output: directory + "/../child.log")
                if let cgroup {
                    do {
                        try cgroup.add(child.pid)
                    } catch {
                        child.stop(grace: 1)
                        outcome.failure = error.description
                        return outcome
                    }
                }
            case .podman(let podman):
                let name = "tailcar-bench-\(getpid())-\(stepNumber)"
                containerName = name
                var argv = [podman.executable] + podman.globalArguments
                argv += ["run", "--rm", "--name", name, "--network", "host", "--user", "\(getuid()):\(getgid())",
                         "--cpus", "\(budget.cpus)", "--memory", "\(budget.memoryBytes)b",
                         "--memory-swap", "\(budget.memoryBytes)b", "--ulimit", "nofile=4096:4096",
                         "--ulimit", "nproc=4096:4096", "-v", "\(plan.workDirectory):\(plan.workDirectory)"]
                for variable in plan.containerEnvironment { argv += ["-e", variable] }
                argv.append(podman.image)
                child = try ChildProcess(argv + runArguments, output: directory + "/../child.log")
            }
        } catch {
            outcome.failure = "cannot start the child: \(error)"
            return outcome
        }
        defer {
            child.stop()
            if let containerName, case .podman(let podman) = backend {
                let remove = try? ChildProcess([podman.executable] + podman.globalArguments
                                               + ["rm", "--force", "--time", "0", containerName])
                remove?.wait(timeout: 30)
            }
        }
        // Wait for /metrics (and, under podman, for the container's process to find its usage).
        let startDeadline = monotonicSeconds() + (containerName == nil ? 15 : 60)
        var usagePID: pid_t? = containerName == nil ? child.pid : nil
        while MetricsProbe.read(port: port, timeout: 0.5) == nil || usagePID == nil {
            if usagePID == nil, let containerName, case .podman(let podman) = backend {
                usagePID = containerPID(podman, name: containerName, directory: directory)
            }
            guard child.isRunning() else {
                outcome.failure = "the child \(child.exit.map { "\($0)" } ?? "exited") before serving /metrics"
                    + childLogTail()
                return outcome
            }
            guard monotonicSeconds() < startDeadline else {
                outcome.failure = "the child did not serve /metrics on 127.0.0.1:\(port) in time" + childLogTail()
                return outcome
            }
            if pause(seconds: 0.05) != 0 { throw SizingInterrupted() }
        }
        let pid = usagePID!
        let bytesPerLine = plan.sample.averageLineBytes
        let rotateBytes = max(16 << 20, Int(rate * bytesPerLine))
        let started = monotonicSeconds()
        let startUsage = ProcessUsage.of(pid)
        var samples: [LagSample] = []
        var nextSample = started + 0.25
        var nextReport = started + 1
        var lastReport = (time: started, cpu: startUsage?.cpuSeconds ?? 0, processed: 0)
        var lastUsage = startUsage
        // Bytes the child has read and run through its processors, as of its last answer. The child answers
        // /metrics on the loop that runs the pipeline, so while it works through a large read it does not
        // answer: the mark then stays put and the lag grows with every line written, as it really does. The
        // flusher's own batching (flusher_sls waits up to 1 s for a fuller batch) is not lag; a sink that
        // cannot keep up is, and it shows here: reading pauses once the in-flight cap is reached.
        var processedMark = 0
        while true {
            let now = monotonicSeconds()
            let elapsed = now - started
            if elapsed >= seconds { break }
            let due = Int(rate * elapsed) - replayer.linesWritten
            if due > 0 {
                do {
                    try replayer.write(lines: due, rotateBytes: rotateBytes)
                } catch {
                    outcome.failure = error.description
                    return outcome
                }
            }
            if now >= nextSample {
                nextSample += 0.25
                guard child.isRunning(), let usage = ProcessUsage.of(pid) else {
                    outcome.failure = "the child \(child.exit.map { "\($0)" } ?? "exited") at \(format(rate, decimals: 0)) lines/s"
                        + oomNote() + childLogTail()
                    outcome.peakRSSBytes = lastUsage?.peakRSSBytes ?? 0
                    return outcome
                }
                lastUsage = usage
                let written = replayer.bytesWritten
                if let agent = MetricsProbe.read(port: port, timeout: 0.2) {
                    let unread = written > Int(agent.bytesRead) ? written - Int(agent.bytesRead) : 0
                    processedMark = max(processedMark, written - unread)
                }
                let lag = Double(written - processedMark) / max(1, rate * bytesPerLine)
                samples.append(LagSample(elapsed: elapsed, lagSeconds: lag))
                if now >= nextReport {
                    let span = now - lastReport.time
                    progress(SizingProgress(budget: budget, phase: phase, targetLinesPerSecond: rate,
                                            linesPerSecond: Double(processedMark - lastReport.processed) / bytesPerLine / span,
                                            lagSeconds: lag, cpuFraction: (usage.cpuSeconds - lastReport.cpu) / span,
                                            rssBytes: usage.rssBytes))
                    lastReport = (now, usage.cpuSeconds, processedMark)
                    nextReport = now + 1
                }
            }
            if pause(seconds: 0.01) != 0 { throw SizingInterrupted() }
        }
        let endUsage = ProcessUsage.of(pid) ?? lastUsage
        let wall = monotonicSeconds() - started
        let writtenRate = Double(replayer.linesWritten) / max(wall, 0.001)
        if Double(replayer.linesWritten) + 2 < rate * wall * 0.95 {
            outcome.writerBound = true
            outcome.failure = "the bench wrote only \(format(writtenRate, decimals: 0)) of \(format(rate, decimals: 0)) lines/s: "
                + "a limit of this machine's writing, not of the budget"
        }
        outcome.cpuFraction = ((endUsage?.cpuSeconds ?? 0) - (startUsage?.cpuSeconds ?? 0)) / max(wall, 0.001)
        outcome.peakRSSBytes = endUsage?.peakRSSBytes ?? 0
        outcome.verdict = LagVerdict.judge(samples, warmup: min(1, seconds / 4))
        if !child.isRunning() { outcome.failure = "the child \(child.exit.map { "\($0)" } ?? "exited")" + oomNote() }
        return outcome
    }

    private func oomNote() -> String {
        guard let cgroup, cgroup.oomKills > 0 else { return "" }
        return " (the memory limit's OOM killer ran \(cgroup.oomKills) time(s))"
    }

    private func childLogTail() -> String {
        guard let bytes = try? readWholeFile(plan.workDirectory + "/child.log"), !bytes.isEmpty else { return "" }
        let lines = String(decoding: bytes.suffix(600), as: UTF8.self).split(separator: "\n").suffix(3)
        return "; its last output: " + lines.joined(separator: " | ")
    }

    private func containerPID(_ podman: PodmanSettings, name: String, directory: String) -> pid_t? {
        let output = directory + "/inspect.txt"
        guard let inspect = try? ChildProcess([podman.executable] + podman.globalArguments
                                              + ["inspect", "--format", "{{.State.Pid}}", name], output: output) else { return nil }
        inspect.wait(timeout: 20)
        defer { unlink(output) }
        guard let bytes = try? readWholeFile(output),
              let pid = pid_t(String(decoding: bytes, as: UTF8.self).trimmingWhitespace), pid > 0 else { return nil }
        return pid
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
