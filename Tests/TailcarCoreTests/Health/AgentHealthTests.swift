// AgentHealthTests.swift
//
// The agent's routes: /healthz through the stop phases, /metrics from live state, /quitquitquit starting
// the same graceful stop as SIGTERM over a real socket, and wrong methods.

import Glibc
import Testing
@testable import TailcarCore

@Suite("Agent health endpoint")
struct AgentHealthTests {
    final class Fixture {
        let directory: String
        let agent: Agent

        init(httpPort: Int? = nil) throws {
            var template = Array("/tmp/tailcar-health-XXXXXX".utf8CString)
            directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            mkdir(directory + "/logs", 0o755)
            let line = "one\ntwo\n"
            let fd = open(directory + "/logs/a.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = line.withCString { write(fd, $0, strlen($0)) }
            close(fd)
            var options = AgentOptions(checkpointDirectory: directory + "/checkpoints")
            options.httpPort = httpPort
            let input = FileInputSettings(filePaths: [directory + "/logs/*.log"], tailingAllMatchedFiles: true)
            let settings = AgentSettings(pipelines: [PipelineSettings(name: "web \"main\"", origin: "test",
                                                                      inputs: [input], flushers: [.blackhole])])
            agent = try Agent(settings: settings, options: options, diagnostics: Diagnostics(quiet: true))
            agent.start()
        }

        func finish() {
            if case .stopped = agent.phase {} else {
                agent.beginStop(reason: "test")
                agent.beginStop(reason: "test")
            }
            agent.loop.close()
            removeTree(directory)
        }
    }

    private func get(_ path: String, method: String = "GET") -> LocalHTTPRequest {
        LocalHTTPRequest(method: method, path: path, query: "", headers: [], body: [])
    }

    @Test("/healthz is 200 while running and 503 once a stop began")
    func healthzPhases() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        let running = fixture.agent.route(get("/healthz"))
        #expect(running.status == 200)
        #expect(String(decoding: running.body, as: UTF8.self).hasPrefix("{\"status\":\"ok\",\"phase\":\"running\""))
        fixture.agent.lastActivity = fixture.agent.context.now
        fixture.agent.beginStop(reason: "test")
        let stopping = fixture.agent.route(get("/healthz"))
        #expect(stopping.status == 503)
        #expect(String(decoding: stopping.body, as: UTF8.self).contains("\"phase\":\"stopping\""))
    }

    @Test("/metrics reports what was read, per pipeline and per file, with escaped labels")
    func metrics() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        fixture.agent.discoverAll()
        for pipeline in fixture.agent.pipelines {
            for input in pipeline.inputs {
                for tailer in input.tailers {
                    _ = try pipeline.pump(tailer, buffer: fixture.agent.context.buffer, now: fixture.agent.context.now)
                }
            }
        }
        let response = fixture.agent.route(get("/metrics"))
        #expect(response.status == 200)
        #expect(response.contentType == PrometheusText.contentType)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains("\ntailcar_bytes_read_total 8\n"))
        #expect(text.contains("\ntailcar_records_read_total 2\n"))
        #expect(text.contains("\ntailcar_files_watched 1\n"))
        #expect(text.contains("tailcar_in_flight_bytes{pipeline=\"web \\\"main\\\"\"} 0\n"))
        #expect(text.contains("tailcar_file_lag_bytes{pipeline=\"web \\\"main\\\"\",path=\"\(fixture.directory)/logs/a.log\"} 0\n"))
    }

    @Test("wrong methods are 405 with Allow, unknown paths 404")
    func methods() throws {
        let fixture = try Fixture()
        defer { fixture.finish() }
        let quit = fixture.agent.route(get("/quitquitquit"))
        #expect(quit.status == 405)
        #expect(quit.headers.contains { $0.name == "Allow" && $0.value == "POST" })
        #expect(fixture.agent.route(get("/metrics", method: "DELETE")).status == 405)
        #expect(fixture.agent.route(get("/")).status == 404)
        if case .running = fixture.agent.phase {} else { Issue.record("a GET stopped the agent") }
    }

    @Test("POST /quitquitquit over a socket answers 200, then the agent stops as on SIGTERM")
    func quitquitquit() throws {
        let fixture = try Fixture(httpPort: try freePort())
        defer { fixture.finish() }
        let port = try #require(fixture.agent.healthPort)
        let client = LoopbackClient(port: port)
        client.send("POST /quitquitquit HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        var stopped = false
        #expect(drive(fixture.agent.loop, [client]) {
            if case .stopped = fixture.agent.phase { stopped = true }
            return client.ended && stopped
        })
        #expect(client.status == 200)
        #expect(client.body == "stopping\n")
    }
}

/// A port nothing listens on right now (bound to 0, read back, released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Deletes `path` and everything below it.
func removeTree(_ path: String) {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { removeTree(path + "/" + name) }
        }
        closedir(directory)
        rmdir(path)
    } else {
        unlink(path)
    }
}
