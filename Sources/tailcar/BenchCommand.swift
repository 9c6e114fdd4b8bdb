// BenchCommand.swift
//
// `tailcar bench --config PIPELINE [--sample FILE] [--cpus 0.1,0.25,1] [--memory 32Mi,64Mi] [--seconds 60]
// [--json] [--keep-flusher --sink URL] [--backend auto|cgroup|podman|estimate]`: what rate the user's
// pipeline sustains in each CPU and memory budget. Reads the options, checks the configuration, picks how
// budgets are enforced, and prints each budget's result; the measuring is TailcarCore's Sizing.

import Glibc
import TailcarCore

enum BenchCommand {
    static let valued: Set<String> = ["config", "sample", "format", "cpus", "memory", "seconds", "sink", "backend",
                                      "image", "podman-root", "podman-runroot", "work-dir"]

    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        InterruptGuard.install()
        let options: Options
        do {
            options = try Options(arguments)
        } catch {
            printError("tailcar bench: \(error)")
            return 2
        }
        guard let context = sidecarContext(environment) else { return 2 }
        let loaded = ConfigLoader.load(path: options.config, context: context)
        guard loaded.errors.isEmpty, let settings = loaded.settings else {
            for error in loaded.errors { printError(error.description) }
            return 2
        }
        guard settings.pipelines.count == 1, let pipeline = settings.pipelines.first else {
            printError("tailcar bench: \(options.config) has \(settings.pipelines.count) pipelines that apply here "
                       + "(\(settings.pipelines.map(\.name).joined(separator: ", "))); bench measures one: give one file")
            return 2
        }
        if options.keepFlusher,
           !pipeline.flushers.contains(where: { if case .sls = $0 { return true } else { return false } }) {
            printError("tailcar bench: --keep-flusher: pipeline \(pipeline.name) has no flusher_sls to keep")
            return 2
        }
        let workspace: BenchWorkspace
        do {
            workspace = try BenchWorkspace(base: options.workDirectory)
        } catch {
            printError("tailcar bench: \(error)")
            return 1
        }
        defer { workspace.remove() }
        var ownSink: ChildProcess?
        defer { ownSink?.stop() }
        do throws(BenchError) {
            var flusher = FlusherOverride.blackhole
            var childEnvironment: [String] = []
            if options.keepFlusher {
                if let sink = options.sink {
                    flusher = .slsEndpoint(sink)
                } else {
                    let (process, port) = try startSink(workspace)
                    ownSink = process
                    flusher = .slsEndpoint("http://127.0.0.1:\(port)")
                }
                // The sink checks no signature, but flusher_sls needs a key to sign with.
                if environment.lookup("ALIBABA_CLOUD_ACCESS_KEY_ID") == nil && options.sink == nil {
                    childEnvironment = ["ALIBABA_CLOUD_ACCESS_KEY_ID=tailcar-bench", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=tailcar-bench"]
                }
            }
            let configCopy = try workspace.copyConfig(options.config)
            let sample = try sampleLines(options, environment: environment, workspace: workspace)
            if InterruptGuard.isInterrupted { return interrupted() }
            let backend = try chooseBackend(options, workspace: workspace)
            var containerEnvironment: [String] = []
            if environment.allowsTestProcessors { containerEnvironment.append("TAILCAR_TEST_PROCESSORS=1") }
            // By name only: podman copies the value from this environment, so no secret is on a command line.
            for name in credentialVariables where environment.lookup(name) != nil { containerEnvironment.append(name) }
            let plan = SizingPlan(tailcarBinary: BenchWorkspace.ownExecutable(), configPath: configCopy, flusher: flusher,
                                  sample: sample, seconds: options.seconds, workDirectory: workspace.directory,
                                  containerEnvironment: containerEnvironment, childEnvironment: childEnvironment)
            let terminal = isatty(2) == 1
            printError("tailcar bench: pipeline \(pipeline.name), \(sample.lineCount) sample lines of "
                       + "\(Int(sample.averageLineBytes.rounded())) bytes on average, flusher \(flusher.argument), "
                       + "budgets enforced by \(describe(backend)), \(Int(options.seconds)) s a confirming run")
            for budget in Budget.grid(cpus: options.cpus, memories: options.memories) {
                let run = SizingRun(plan: plan, budget: budget, backend: backend) { progress in
                    let line = SizingReport.progressLine(progress)
                    printError(terminal ? "\r\u{1B}[K" + line : line, newline: !terminal)
                }
                let result: BudgetResult
                do {
                    result = try run.run()
                } catch {
                    if terminal { printError("") }
                    return interrupted()
                }
                if terminal { printError("\r\u{1B}[K", newline: false) }
                if options.json {
                    print(SizingReport.json(result, seconds: options.seconds))
                } else {
                    print(SizingReport.text(result), terminator: "")
                }
                fflush(nil)
            }
            return 0
        } catch {
            printError("tailcar bench: \(error)")
            return 1
        }
    }

    /// `tailcar sls-sink` beside the budget (outside it): the process and its port.
    static func startSink(_ workspace: BenchWorkspace) throws(BenchError) -> (ChildProcess, Int) {
        let portFile = workspace.directory + "/sink.port"
        let process: ChildProcess
        do {
            process = try ChildProcess([BenchWorkspace.ownExecutable(), "sls-sink", "--port-file", portFile],
                                       output: workspace.directory + "/sink.log")
        } catch {
            throw BenchError("cannot start tailcar sls-sink: \(error)")
        }
        let deadline = monotonicSeconds() + 10
        while monotonicSeconds() < deadline && process.isRunning() {
            if let bytes = try? BenchWorkspace.read(portFile), let port = Int(String(decoding: bytes, as: UTF8.self)
                .split(separator: "\n").first ?? "") {
                return (process, port)
            }
            pause(seconds: 0.02)
        }
        process.stop(grace: 1)
        throw BenchError("tailcar sls-sink did not start (\(process.exit.map { "\($0)" } ?? "no port in 10 s"))")
    }

    /// What flusher_sls reads its AccessKey from (CredentialSource), passed into a podman container.
    static let credentialVariables = ["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                      "ALIBABA_CLOUD_SECURITY_TOKEN"]

    private static func interrupted() -> Int32 {
        printError("tailcar bench: interrupted; the child run, its cgroups and the work directory are removed")
        return 130
    }

    private static func describe(_ backend: BudgetBackend) -> String {
        switch backend {
        case .cgroup: return "a child cgroup"
        case .podman(let podman): return "podman (\(podman.image))"
        case .estimate(let reason): return "nothing (\(reason)): results are ESTIMATES from CPU-seconds per MB"
        }
    }

    /// The sample file's lines, or tailcar-gen's `--format` lines (nginx by default).
    static func sampleLines(_ options: Options, environment: Environment, workspace: BenchWorkspace) throws(BenchError) -> SampleLines {
        let bytes: [UInt8]
        if let path = options.sample {
            bytes = try BenchWorkspace.read(path)
        } else {
            let sibling = BenchWorkspace.ownExecutable().split(separator: "/").dropLast().joined(separator: "/")
            let generator = environment.generator ?? BenchWorkspace.onPath("/" + sibling + "/tailcar-gen")
                ?? BenchWorkspace.onPath("tailcar-gen")
            guard let generator else {
                throw BenchError("no --sample and no tailcar-gen (beside tailcar, on PATH, or TAILCAR_GEN) to make one")
            }
            let path = workspace.directory + "/sample.log"
            let (exit, output) = workspace.capture([generator, "--log-type=\(options.format)", "--path=\(path)",
                                                    "--total-count=20000", "--seed=1"])
            guard exit == .exited(0) else {
                throw BenchError("\(generator) --log-type=\(options.format) failed: \(output.split(separator: "\n").last ?? "")")
            }
            bytes = try BenchWorkspace.read(path)
        }
        guard let lines = SampleLines(bytes) else { throw BenchError("the sample \(options.sample ?? "") is empty") }
        return lines
    }

    /// auto: a child cgroup when one can be made here, else podman with the image, else the estimate.
    static func chooseBackend(_ options: Options, workspace: BenchWorkspace) throws(BenchError) -> BudgetBackend {
        var reasons: [String] = []
        if options.backend == "auto" || options.backend == "cgroup" {
            do {
                let probe = try CgroupBudget(budget: Budget(cpus: 1, memoryBytes: 64 << 20), name: "tailcar-bench-\(getpid())-probe")
                probe.remove()
                return .cgroup
            } catch {
                if options.backend == "cgroup" { throw BenchError("--backend cgroup: \(error)") }
                reasons.append("no child cgroup: \(error)")
            }
        }
        if options.backend == "auto" || options.backend == "podman" {
            var global = ["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
            if let root = options.podmanRoot { global += ["--root", root, "--storage-driver", "vfs"] }
            if let runroot = options.podmanRunroot { global += ["--runroot", runroot] }
            if let podman = BenchWorkspace.onPath("podman") {
                let (exit, output) = workspace.capture([podman] + global + ["image", "exists", options.image], timeout: 60)
                if exit == .exited(0) { return .podman(PodmanSettings(image: options.image, globalArguments: global, executable: podman)) }
                let reason = "podman has no image \(options.image) (scripts/image.sh builds it)\(output.isEmpty ? "" : ": " + output)"
                if options.backend == "podman" { throw BenchError("--backend podman: \(reason)") }
                reasons.append(reason)
            } else {
                if options.backend == "podman" { throw BenchError("--backend podman: podman is not on PATH") }
                reasons.append("no podman on PATH")
            }
        }
        if options.backend == "estimate" { reasons.append("--backend estimate") }
        return .estimate(reason: reasons.joined(separator: "; "))
    }

    struct Options {
        var config: String
        var sample: String?
        var format = "nginx"
        var cpus: [Double] = [0.1, 0.25, 1]
        var memories: [Int] = [32 << 20, 64 << 20]
        var seconds = 60.0
        var json = false
        var keepFlusher = false
        var sink: String?
        var backend = "auto"
        var image = "localhost/tailcar:dev"
        var podmanRoot: String?
        var podmanRunroot: String?
        var workDirectory: String

        init(_ arguments: ArraySlice<String>) throws(UsageError) {
            let parsed = try Arguments(arguments, valued: valued, flags: ["json", "keep-flusher"])
            guard parsed.positional.isEmpty else { throw UsageError(description: "unexpected argument \"\(parsed.positional[0])\"") }
            guard let config = parsed.value("config") else {
                throw UsageError(description: "--config PIPELINE is required (see 'tailcar help')")
            }
            self.config = config
            sample = parsed.value("sample")
            if let format = parsed.value("format") { self.format = format }
            if let text = parsed.value("cpus") {
                cpus = try text.split(separator: ",").map { (item: Substring) throws(UsageError) -> Double in
                    guard let value = Budget.parseCPUs(String(item)) else {
                        throw UsageError(description: "--cpus: \"\(item)\" is not a CPU share such as 0.25 or 250m")
                    }
                    return value
                }
            }
            if let text = parsed.value("memory") {
                memories = try text.split(separator: ",").map { (item: Substring) throws(UsageError) -> Int in
                    guard let value = Budget.parseMemory(String(item)) else {
                        throw UsageError(description: "--memory: \"\(item)\" is not a memory limit such as 32Mi (at least 4Mi)")
                    }
                    return value
                }
            }
            guard !cpus.isEmpty, !memories.isEmpty else { throw UsageError(description: "--cpus and --memory need at least one value") }
            if let text = parsed.value("seconds") {
                guard let value = Double(text), value >= 2, value <= 86400 else {
                    throw UsageError(description: "--seconds expects a number of seconds from 2, got \"\(text)\"")
                }
                seconds = value
            }
            json = parsed.flag("json")
            keepFlusher = parsed.flag("keep-flusher")
            sink = parsed.value("sink")
            if let backend = parsed.value("backend") {
                guard ["auto", "cgroup", "podman", "estimate"].contains(backend) else {
                    throw UsageError(description: "--backend expects auto, cgroup, podman or estimate, got \"\(backend)\"")
                }
                self.backend = backend
            }
            if let image = parsed.value("image") { self.image = image }
            podmanRoot = parsed.value("podman-root")
            podmanRunroot = parsed.value("podman-runroot")
            workDirectory = parsed.value("work-dir") ?? getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        }
    }
}
