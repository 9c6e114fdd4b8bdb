// SizingRun+Step.swift
//
// One step of the rate search: a fresh child `tailcar run` in the budget (moved into the child cgroup, or
// run by podman with --cpus and --memory), the sample replayed into its file at the step's rate, its lag
// read from its /metrics every 0.25 s, its CPU and memory from /proc, then the verdict. The step directory
// and the child (and its container) are gone when the step returns, whatever happened.

import Glibc

/// Why a step ended before its verdict, or that the bench was interrupted.
enum StepStop: Error {
    case failed(String, peakRSSBytes: Int = 0)
    case interrupted
}

/// The child of one step: the process the bench started (podman's client under podman), the container's
/// name, the port of its /metrics, and the process whose CPU and memory count.
struct StepChild {
    let process: ChildProcess
    let container: String?
    let port: Int
    var usagePID: pid_t?
}

extension SizingRun {
    func runStep(rate: Double, seconds: Double, phase: String) throws(SizingInterrupted) -> StepOutcome {
        stepNumber += 1
        let directory = plan.workDirectory + "/step-\(stepNumber)"
        mkdir(directory, 0o755)
        defer { removeTree(directory) }
        var outcome = StepOutcome(rate: rate, seconds: seconds, verdict: .tooFewSamples, failure: nil, cpuFraction: 0,
                                  peakRSSBytes: 0)
        defer { steps.append(outcome) }
        do throws(StepStop) {
            let replayer: SampleReplayer
            do {
                replayer = try SampleReplayer(path: directory + "/bench.log", sample: plan.sample)
            } catch {
                throw .failed(error.description)
            }
            var child = try startChild(logPath: replayer.path, directory: directory)
            defer { stop(child) }
            try waitForMetrics(&child, directory: directory)
            try replay(replayer, into: child, rate: rate, seconds: seconds, phase: phase, outcome: &outcome)
        } catch {
            switch error {
            case .interrupted: throw SizingInterrupted()
            case .failed(let reason, let peak):
                outcome.failure = reason
                outcome.peakRSSBytes = peak
            }
        }
        return outcome
    }

    private func startChild(logPath: String, directory: String) throws(StepStop) -> StepChild {
        let port = unusedLoopbackPort()
        let runArguments = ["run", "--config", plan.configPath, "--replace-inputs", logPath,
                            "--replace-flushers", plan.flusher.argument, "--checkpoint-dir", directory + "/state",
                            "--http-port", "\(port)", "--no-reload", "--no-task-files", "--no-sls-configs"]
        let output = plan.workDirectory + "/child.log"
        do {
            switch backend {
            case .cgroup, .estimate:
                let process = try ChildProcess([plan.tailcarBinary] + runArguments, output: output,
                                               environment: plan.childEnvironment)
                if let cgroup {
                    do {
                        try cgroup.add(process.pid)
                    } catch {
                        process.stop(grace: 1)
                        throw StepStop.failed(error.description)
                    }
                }
                return StepChild(process: process, container: nil, port: port, usagePID: process.pid)
            case .podman(let podman):
                let name = "tailcar-bench-\(getpid())-\(stepNumber)"
                var argv = [podman.executable] + podman.globalArguments
                argv += ["run", "--rm", "--name", name, "--network", "host", "--user", "\(getuid()):\(getgid())",
                         "--cpus", "\(budget.cpus)", "--memory", "\(budget.memoryBytes)b",
                         "--memory-swap", "\(budget.memoryBytes)b", "--ulimit", "nofile=4096:4096",
                         "--ulimit", "nproc=4096:4096", "-v", "\(plan.workDirectory):\(plan.workDirectory)"]
                for variable in plan.containerEnvironment + plan.childEnvironment { argv += ["-e", variable] }
                let process = try ChildProcess(argv + [podman.image] + runArguments, output: output)
                return StepChild(process: process, container: name, port: port, usagePID: nil)
            }
        } catch let error as StepStop {
            throw error
        } catch {
            throw .failed("cannot start the child: \(error)")
        }
    }

    private func stop(_ child: StepChild) {
        child.process.stop()
        guard let container = child.container, case .podman(let podman) = backend else { return }
        let remove = try? ChildProcess([podman.executable] + podman.globalArguments
                                       + ["rm", "--force", "--time", "0", container])
        remove?.wait(timeout: 30)
    }

    /// Until /metrics answers (and, under podman, the container's process is known).
    private func waitForMetrics(_ child: inout StepChild, directory: String) throws(StepStop) {
        let deadline = monotonicSeconds() + (child.container == nil ? 15 : 60)
        while MetricsProbe.read(port: child.port, timeout: 0.5) == nil || child.usagePID == nil {
            if child.usagePID == nil, let container = child.container, case .podman(let podman) = backend {
                child.usagePID = containerPID(podman, name: container, directory: directory)
            }
            guard child.process.isRunning() else {
                throw .failed("the child \(child.process.exit.map { "\($0)" } ?? "exited") before serving /metrics"
                              + childLogTail())
            }
            guard monotonicSeconds() < deadline else {
                throw .failed("the child did not serve /metrics on 127.0.0.1:\(child.port) in time" + childLogTail())
            }
            if pause(seconds: 0.05) != 0 { throw .interrupted }
        }
    }

    /// Writes at `rate` for `seconds`, sampling the lag; fills in the outcome's verdict, CPU and peak RSS.
    private func replay(_ replayer: SampleReplayer, into child: StepChild, rate: Double, seconds: Double, phase: String,
                        outcome: inout StepOutcome) throws(StepStop) {
        guard let pid = child.usagePID else { throw .failed("no process to measure") }
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
        // The same for what the flushers acknowledged (the file's size minus the acknowledged offset).
        var acknowledgedMark = 0
        while case let now = monotonicSeconds(), now - started < seconds {
            let elapsed = now - started
            let due = Int(rate * elapsed) - replayer.linesWritten
            if due > 0 {
                do {
                    try replayer.write(lines: due, rotateBytes: rotateBytes)
                } catch {
                    throw .failed(error.description)
                }
            }
            if now >= nextSample {
                nextSample += 0.25
                guard child.process.isRunning(), let usage = ProcessUsage.of(pid) else {
                    throw .failed("the child \(child.process.exit.map { "\($0)" } ?? "exited") at "
                                  + "\(format(rate, decimals: 0)) lines/s" + oomNote() + childLogTail(),
                                  peakRSSBytes: lastUsage?.peakRSSBytes ?? 0)
                }
                lastUsage = usage
                let written = replayer.bytesWritten
                if let agent = MetricsProbe.read(port: child.port, timeout: 0.2) {
                    processedMark = max(processedMark, min(written, Int(agent.bytesRead)))
                    acknowledgedMark = max(acknowledgedMark, min(processedMark, written - Int(agent.lagBytes)))
                }
                let bytesPerSecond = max(1, rate * bytesPerLine)
                let lag = Double(written - processedMark) / bytesPerSecond
                samples.append(LagSample(elapsed: elapsed, lagSeconds: lag,
                                         unacknowledgedSeconds: Double(written - acknowledgedMark) / bytesPerSecond))
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
            if pause(seconds: 0.01) != 0 { throw .interrupted }
        }
        let endUsage = ProcessUsage.of(pid) ?? lastUsage
        let wall = monotonicSeconds() - started
        outcome.cpuFraction = ((endUsage?.cpuSeconds ?? 0) - (startUsage?.cpuSeconds ?? 0)) / max(wall, 0.001)
        outcome.peakRSSBytes = endUsage?.peakRSSBytes ?? 0
        outcome.verdict = LagVerdict.judge(samples, warmup: min(1, seconds / 4))
        if Double(replayer.linesWritten) + 2 < rate * wall * 0.95 {
            outcome.writerBound = true
            throw .failed("the bench wrote only \(format(Double(replayer.linesWritten) / wall, decimals: 0)) of "
                          + "\(format(rate, decimals: 0)) lines/s: a limit of this machine's writing, not of the budget",
                          peakRSSBytes: outcome.peakRSSBytes)
        }
        if !child.process.isRunning() {
            throw .failed("the child \(child.process.exit.map { "\($0)" } ?? "exited")" + oomNote(),
                          peakRSSBytes: outcome.peakRSSBytes)
        }
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
