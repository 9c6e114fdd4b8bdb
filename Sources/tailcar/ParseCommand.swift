// ParseCommand.swift
//
// `tailcar parse --config PATH [--pipeline NAME] [--input FILE]`: runs a pipeline's framing and processors
// over sample lines (a file, or standard input) and prints each record as JSON, unmatched ones marked.

import Glibc
import TailcarCore

enum ParseCommand {
    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        let parsed: Arguments
        do {
            parsed = try Arguments(arguments, valued: ["config", "pipeline", "input"], flags: [])
        } catch {
            printError("tailcar parse: \(error)")
            return 2
        }
        guard let configPath = parsed.value("config") else {
            printError("usage: tailcar parse --config PATH [--pipeline NAME] [--input FILE]")
            return 2
        }
        guard let settings = RunCommand.loadSettings(configPath, diagnostics: Diagnostics(quiet: true)) else { return 1 }
        let wanted = parsed.value("pipeline")
        guard let pipeline = settings.pipelines.first(where: { wanted == nil || $0.name == wanted }) else {
            printError("tailcar parse: no pipeline named \"\(wanted ?? "")\"; have \(settings.pipelines.map(\.name))")
            return 1
        }
        let input: [UInt8]
        let label = parsed.value("input") ?? "stdin"
        do {
            input = try readAll(parsed.value("input"))
        } catch {
            printError("tailcar parse: \(error)")
            return 1
        }
        do {
            let output = try PipelinePreview(pipeline, localZone: UTCOffset(seconds: environment.localTimeOffsetSeconds))
                .run(input, path: label)
            output.withUnsafeBytes { bytes in
                var done = 0
                while done < bytes.count {
                    let n = write(1, bytes.baseAddress! + done, bytes.count - done)
                    if n <= 0 { break }
                    done += n
                }
            }
            return 0
        } catch {
            printError("tailcar parse: \(error)")
            return 1
        }
    }

    /// The whole of `path`, or of standard input when nil.
    static func readAll(_ path: String?) throws(SystemError) -> [UInt8] {
        let fd: Int32 = try path.map { path throws(SystemError) in
            try systemCall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        } ?? 0
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = try systemCall("read", path: path ?? "stdin") {
                chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }
}
