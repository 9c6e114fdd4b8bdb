// TombstoneTests.swift
//
// The Job handshake on a real agent and loop: the cornerstone is written after the first scan, the
// tombstone ends the agent once every line written before it is delivered, /healthz stays healthy while
// it drains, and a signal during the drain bounds the wait.

import Glibc
import Testing
@testable import TailcarCore

@Suite("Tombstone and cornerstone")
struct TombstoneTests {
    final class Fixture {
        let scratch = ScratchDirectory()
        let agent: Agent
        var logs: String { scratch.path + "/logs" }
        var task: String { scratch.path + "/task" }
        var output: String { scratch.path + "/out.jsonl" }

        init() throws {
            mkdir(scratch.path + "/logs", 0o755)
            mkdir(scratch.path + "/task", 0o755)
            var options = AgentOptions(checkpointDirectory: scratch.path + "/checkpoints",
                                       pollInterval: .milliseconds(10))
            options.useInotify = false
            options.cornerstonePath = scratch.path + "/task/cornerstone"
            options.tombstonePath = scratch.path + "/task/tombstone"
            let input = FileInputSettings(filePaths: [scratch.path + "/logs/*.log"])
            let pipeline = PipelineSettings(name: "job", origin: "test", inputs: [input],
                                            flushers: [.file(path: scratch.path + "/out.jsonl")])
            agent = try Agent(settings: AgentSettings(pipelines: [pipeline]), options: options,
                              diagnostics: Diagnostics(quiet: true))
        }

        func append(_ name: String, _ text: String) {
            let fd = open(logs + "/" + name, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }

        func touch(_ path: String) { close(open(path, O_WRONLY | O_CREAT, 0o644)) }

        func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

        var stopped: Bool {
            if case .stopped = agent.phase { return true }
            return false
        }

        func outputLines() -> Int {
            guard let file = fopen(output, "r") else { return 0 }
            defer { fclose(file) }
            var count = 0
            while true {
                let c = getc(file)
                if c == EOF { return count }
                if c == 0x0A { count += 1 }
            }
        }

        func finish() {
            if !stopped {
                agent.beginStop(reason: "test")
                agent.beginStop(reason: "test")
            }
            agent.loop.close()
        }
    }

    private func healthz(_ agent: Agent) -> (Int, String) {
        let response = agent.route(LocalHTTPRequest(method: "GET", path: "/healthz", query: "", headers: [], body: []))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test("the cornerstone appears after the first scan; the tombstone ends the agent once all before it is delivered")
    func handshake() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        #expect(!fixture.exists(fixture.task + "/cornerstone"))
        fixture.agent.start()
        #expect(fixture.exists(fixture.task + "/cornerstone"))
        fixture.append("a.log", String(repeating: "line\n", count: 3000))
        fixture.append("b.log", "one\ntwo\nno newline")
        fixture.touch(fixture.task + "/tombstone")
        #expect(drive(fixture.agent.loop, []) { fixture.stopped })
        #expect(fixture.outputLines() == 3003)
        #expect(fixture.agent.isAcknowledged())
    }

    @Test("/healthz stays 200 while the tombstone drains; a signal then bounds the wait")
    func healthWhileDraining() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        fixture.agent.start()
        fixture.touch(fixture.task + "/tombstone")
        fixture.agent.beginTombstoneDrain()
        let (status, body) = healthz(fixture.agent)
        #expect(status == 200)
        #expect(body.contains("\"phase\":\"tombstone\""))
        fixture.agent.phase = .finishing(reason: "tombstone", deadline: .max)
        #expect(healthz(fixture.agent).0 == 200)
        fixture.agent.beginStop(reason: "SIGTERM")
        #expect(fixture.stopped)
    }

    @Test("the tombstone counts as soon as a file of that name exists")
    func tombstoneSeen() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        #expect(fixture.agent.tombstoneAppeared() == false)
        fixture.touch(fixture.task + "/tombstone")
        #expect(fixture.agent.tombstoneAppeared() == true)
    }
}
