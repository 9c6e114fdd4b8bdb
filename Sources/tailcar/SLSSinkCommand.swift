// SLSSinkCommand.swift
//
// `tailcar sls-sink [--port-file FILE]`: a local SLS-compatible sink on 127.0.0.1 that answers every
// PutLogs with 200 and discards it (DiscardingSLSSink), until SIGINT or SIGTERM. `tailcar bench
// --keep-flusher` starts one when no --sink is given; it also serves to try flusher_sls without SLS.

import Glibc
import TailcarCore

enum SLSSinkCommand {
    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        let parsed: Arguments
        do {
            parsed = try Arguments(arguments, valued: ["port-file"], flags: [])
        } catch {
            printError("tailcar sls-sink: \(error)")
            return 2
        }
        InterruptGuard.install()
        let sink: DiscardingSLSSink
        do {
            sink = try DiscardingSLSSink()
        } catch {
            printError("tailcar sls-sink: \(error)")
            return 1
        }
        print("listening \(sink.port)")
        fflush(nil)
        if let path = parsed.value("port-file") {
            // Written whole under another name, then renamed: a reader never sees half a number.
            let partial = path + ".partial"
            let descriptor = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            let text = Array("\(sink.port)\n".utf8)
            guard descriptor >= 0, text.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == text.count,
                  close(descriptor) == 0, rename(partial, path) == 0 else {
                printError("tailcar sls-sink: cannot write \(path): \(String(cString: strerror(errno)))")
                return 1
            }
        }
        sink.serve { InterruptGuard.isInterrupted }
        printError("tailcar sls-sink: stopped after \(sink.requests) requests, \(sink.bodyBytes) body bytes")
        return 0
    }
}
