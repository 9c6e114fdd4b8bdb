// Budgets as `tailcar bench` reads them (a resources: block's spellings) and writes them back, the JSON
// and text of a result, and the run overrides that point a user's pipeline at the sample and a blackhole.
import Testing
@testable import TailcarCore

@Suite("Bench budgets and reports")
struct BudgetTests {
    @Test("CPU shares and memory limits in Kubernetes spellings")
    func parsing() {
        #expect(Budget.parseCPUs("0.25") == 0.25)
        #expect(Budget.parseCPUs("100m") == 0.1)
        #expect(Budget.parseCPUs("1") == 1)
        #expect(Budget.parseCPUs("0") == nil)
        #expect(Budget.parseCPUs("abc") == nil)
        #expect(Budget.parseMemory("32Mi") == 32 << 20)
        #expect(Budget.parseMemory("1Gi") == 1 << 30)
        #expect(Budget.parseMemory("30Mi") == 30 << 20)
        #expect(Budget.parseMemory("64M") == 64_000_000)
        #expect(Budget.parseMemory("1Mi") == nil)
        #expect(Budget.parseMemory("lots") == nil)
        #expect(Budget.cpuQuantity(0.1) == "100m")
        #expect(Budget.cpuQuantity(1) == "1")
        #expect(Budget.memoryQuantity(128 << 20) == "128Mi")
        #expect(Budget.grid(cpus: [0.1, 1], memories: [32 << 20, 64 << 20]).count == 4)
    }

    private func result(lines: Double?, measured: Bool = true) -> BudgetResult {
        BudgetResult(budget: Budget(cpus: 0.25, memoryBytes: 64 << 20), linesPerSecond: lines,
                     megabytesPerSecond: lines.map { $0 * 200 / 1e6 }, peakRSSBytes: 12 << 20, measured: measured,
                     backend: "cgroup v1", cpuSecondsPerMB: 0.01, note: lines == nil ? "no rate \"held\"" : nil, steps: [])
    }

    @Test("the JSON object has the issue's keys; null and an escaped note without a rate")
    func json() {
        let text = SizingReport.json(result(lines: 5000), seconds: 60)
        #expect(text.hasPrefix("{\"cpus\": 0.250, \"memory_mib\": 64.0, \"lines_per_second\": 5000.0, \"mb_per_second\": 1.000, "
                               + "\"peak_rss_mib\": 12.0, \"measured\": true"))
        let none = SizingReport.json(result(lines: nil), seconds: 60)
        #expect(none.contains("\"lines_per_second\": null"))
        #expect(none.contains("\"note\": \"no rate \\\"held\\\"\""))
    }

    @Test("the text suggests a resources block with a 30% margin and says when it is an estimate")
    func text() {
        let text = SizingReport.text(result(lines: 5000))
        #expect(text.contains("sustains 5000 lines/s (1.000 MB/s)"))
        #expect(text.contains("for up to 3500 lines/s"))
        #expect(text.contains("requests: {cpu: 250m, memory: 64Mi}"))
        #expect(SizingReport.text(result(lines: 5000, measured: false)).contains("NOT MEASURED: an estimate"))
    }

    @Test("run overrides: inputs read the sample from byte 0, flushers become a blackhole or a local SLS sink")
    func overrides() {
        let input = FileInputSettings(filePaths: ["/var/log/app/*.log"])
        let sls = SLSFlusherSettings(endpoint: "cn-hangzhou.log.aliyuncs.com", project: "p", logstore: "l")
        let pipeline = PipelineSettings(name: "web", origin: "web.yaml", inputs: [input],
                                        processors: [.parseJSON(SourceHandling())], flushers: [.sls(sls), .stdout])
        let blackholed = PipelineOverrides(inputPath: "/tmp/x/bench.log", flusher: .blackhole).apply(to: pipeline)
        #expect(blackholed.inputs[0].filePaths == ["/tmp/x/bench.log"])
        #expect(blackholed.inputs[0].tailingAllMatchedFiles)
        #expect(blackholed.processors == pipeline.processors)
        #expect(blackholed.flushers == [.blackhole])
        let kept = PipelineOverrides(flusher: FlusherOverride(argument: "sls=http://127.0.0.1:9000")).apply(to: pipeline)
        var redirected = sls
        redirected.endpoint = "http://127.0.0.1:9000"
        #expect(kept.flushers == [.sls(redirected), .blackhole])
        #expect(FlusherOverride(argument: "file") == nil)
    }

    @Test("Prometheus text: bytes read, records read and the lag summed over files")
    func progress() {
        let text = """
        # TYPE tailcar_bytes_read_total counter
        tailcar_bytes_read_total 1000
        tailcar_records_read_total 10
        tailcar_file_lag_bytes{pipeline="web",path="/a.log"} 30
        tailcar_file_lag_bytes{pipeline="web",path="/b \\"x\\".log"} 12
        """
        let progress = try! #require(AgentProgress(prometheus: text))
        #expect(progress.bytesRead == 1000)
        #expect(progress.recordsRead == 10)
        #expect(progress.lagBytes == 42)
        #expect(AgentProgress(prometheus: "hello") == nil)
    }

    @Test("the sample is repeated whole to at least 1 MiB; a last line gets its newline")
    func sample() {
        let lines = try! #require(SampleLines(Array("a\nbcd".utf8)))
        #expect(lines.lineCount == 2)
        #expect(lines.averageLineBytes == 3)
        #expect(SampleLines([]) == nil)
    }
}

@Suite("Sample replayer")
struct SampleReplayerTests {
    @Test("writes whole lines round the sample, counts them, and rotates by rename keeping one older file")
    func rotation() throws {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/bench.log"
        let sample = try #require(SampleLines(Array("one\ntwo\nthree\n".utf8)))
        let replayer = try SampleReplayer(path: path, sample: sample)
        try replayer.write(lines: 4, rotateBytes: 1 << 20)
        #expect(replayer.linesWritten == 4)
        #expect(replayer.bytesWritten == 18)
        #expect(String(decoding: try #require(try readWholeFile(path)), as: UTF8.self) == "one\ntwo\nthree\none\n")
        try replayer.write(lines: 1, rotateBytes: 10)
        #expect(replayer.rotations == 1)
        #expect(String(decoding: try #require(try readWholeFile(path)), as: UTF8.self) == "two\n")
        #expect(try readWholeFile(path + ".1")?.count == 18)
        try replayer.write(lines: 3, rotateBytes: 3)
        try replayer.write(lines: 1, rotateBytes: 3)
        #expect(replayer.rotations == 3)
        #expect(try readWholeFile(path + ".1").map { String(decoding: $0, as: UTF8.self) } == "three\none\ntwo\n")
    }
}
