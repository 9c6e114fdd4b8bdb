// ReloadTests.swift
//
// Applying a new configuration to a running agent on a real loop: an unchanged pipeline keeps its runner
// and tailers, a changed one hands over at the acknowledged offset, a removed one closes, and the stamp
// of a ConfigMap-style directory changes when `..data` is swapped.

import Glibc
import Testing
@testable import TailcarCore

@Suite("Configuration reload")
struct ReloadTests {
    final class Fixture {
        let scratch = ScratchDirectory()
        let agent: Agent
        var path: String { scratch.path }

        init(_ settings: AgentSettings) throws {
            mkdir(scratch.path + "/logs", 0o755)
            var options = AgentOptions(checkpointDirectory: scratch.path + "/checkpoints", pollInterval: .milliseconds(10))
            options.useInotify = false
            agent = try Agent(settings: settings, options: options, diagnostics: Diagnostics(quiet: true))
            agent.start()
        }

        func append(_ name: String, _ text: String) {
            let fd = open(path + "/logs/" + name, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }

        func lines(_ file: String) -> [String] {
            guard let handle = fopen(path + "/" + file, "r") else { return [] }
            defer { fclose(handle) }
            var bytes: [UInt8] = []
            while true {
                let c = getc(handle)
                if c == EOF { break }
                bytes.append(UInt8(c))
            }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        }

        func finish() {
            agent.beginStop(reason: "test")
            agent.beginStop(reason: "test")
            agent.loop.close()
        }
    }

    private func pipeline(_ name: String, _ scratch: String, pattern: String, output: String) -> PipelineSettings {
        PipelineSettings(name: name, origin: "test", inputs: [FileInputSettings(filePaths: [scratch + "/logs/" + pattern])],
                         flushers: [.file(path: scratch + "/" + output)])
    }

    @Test("unchanged pipelines keep their runner, changed ones continue at the acknowledged offset, removed ones close")
    func apply() throws {
        // The agent starts with no pipeline; the first apply adds all three (as a reload would).
        let fixture = try Fixture(AgentSettings(pipelines: []))
        defer { fixture.finish() }
        let root = fixture.path
        fixture.agent.apply(AgentSettings(pipelines: [
            pipeline("a", root, pattern: "a.log", output: "a1.jsonl"), pipeline("c", root, pattern: "c.log", output: "c.jsonl"),
            pipeline("gone", root, pattern: "g.log", output: "g.jsonl")]))
        fixture.append("a.log", "a1\na2\n")
        fixture.append("c.log", "c1\n")
        #expect(drive(fixture.agent.loop, []) { fixture.lines("a1.jsonl").count == 2 && fixture.lines("c.jsonl").count == 1 })
        let c = try #require(fixture.agent.pipelines.first { $0.settings.name == "c" })
        let cTailer = try #require(c.inputs.first?.tailers.first)

        fixture.agent.apply(AgentSettings(pipelines: [
            pipeline("a", root, pattern: "a.log", output: "a2.jsonl"), pipeline("c", root, pattern: "c.log", output: "c.jsonl")]))
        #expect(fixture.agent.retiring.isEmpty)
        #expect(fixture.agent.pipelines.map(\.settings.name).sorted() == ["a", "c"])
        #expect(fixture.agent.pipelines.first { $0.settings.name == "c" } === c)
        #expect(c.inputs.first?.tailers.first === cTailer)
        fixture.append("a.log", "a3\n")
        fixture.append("g.log", "g1\n")
        fixture.append("c.log", "c2\n")
        #expect(drive(fixture.agent.loop, []) { fixture.lines("a2.jsonl").count == 1 && fixture.lines("c.jsonl").count == 2 })
        #expect(fixture.lines("a1.jsonl").count == 2)
        #expect(fixture.lines("a2.jsonl").first?.contains("\"content\":\"a3\"") == true)
        #expect(fixture.lines("g.jsonl").isEmpty)
    }

    @Test("a reload that allows longer lines than any before grows the shared read buffer")
    func longerLines() throws {
        let fixture = try Fixture(AgentSettings(pipelines: []))
        defer { fixture.finish() }
        let before = fixture.agent.context.buffer.capacity
        var input = FileInputSettings(filePaths: [fixture.path + "/logs/long.log"])
        input.maxLineBytes = 4 << 20
        fixture.agent.apply(AgentSettings(pipelines: [PipelineSettings(name: "long", origin: "test", inputs: [input],
                                                                       flushers: [.file(path: fixture.path + "/long.jsonl")])]))
        #expect(fixture.agent.context.buffer.capacity > before)
        #expect(fixture.agent.context.buffer.capacity >= (4 << 20))
        fixture.append("long.log", String(repeating: "x", count: 3 << 20) + "\n")
        #expect(drive(fixture.agent.loop, []) { fixture.lines("long.jsonl").count == 1 })
        #expect(fixture.lines("long.jsonl").first.map { $0.count > 3 << 20 } == true)
    }

    @Test("swapping ..data changes the stamp of the directory's files; the same content under the same inode does not")
    func stamps() throws {
        let scratch = ScratchDirectory()
        let conf = scratch.path
        mkdir(conf + "/..v1", 0o755)
        mkdir(conf + "/..v2", 0o755)
        for version in ["..v1", "..v2"] {
            let fd = open(conf + "/" + version + "/p.yaml", O_WRONLY | O_CREAT, 0o644)
            _ = "inputs: []\n".withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        symlink("..v1", conf + "/..data")
        symlink("..data/p.yaml", conf + "/p.yaml")
        let first = ConfigFileStamp.of(conf)
        #expect(first.count == 1 && first[0].path == conf + "/p.yaml")
        #expect(ConfigFileStamp.of(conf) == first)
        symlink("..v2", conf + "/..data_tmp")
        rename(conf + "/..data_tmp", conf + "/..data")
        #expect(ConfigFileStamp.of(conf) != first)
    }
}
