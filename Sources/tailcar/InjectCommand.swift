// InjectCommand.swift
//
// `tailcar inject -f app.yaml --log-dir /var/log/app [options]`: reads a manifest (a file, or `-` for
// standard input), adds the Tailcar sidecar to every workload in it (TailcarCore's SidecarInjector) and
// writes the YAML to standard output; notes go to standard error. Exit 0, 1 when the manifest cannot be
// read or changed, 2 for a usage error.

import Glibc
import TailcarCore

enum InjectCommand {
    static let valued: Set<String> = ["filename", "log-dir", "image", "config-map", "name", "user-id",
                                      "user-defined-id", "region", "stop-delay"]

    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        let options: InjectionOptions
        let input: String
        do throws(UsageError) {
            // `-f FILE` is kubectl's spelling; the reader knows long options only.
            let expanded = arguments.map { $0 == "-f" ? "--filename" : $0 }
            let parsed = try Arguments(expanded[...], valued: valued, flags: ["classic"])
            guard parsed.positional.isEmpty else {
                throw UsageError(description: "unexpected argument \"\(parsed.positional[0])\"")
            }
            guard let file = parsed.value("filename"), let logDirectory = parsed.value("log-dir") else {
                throw UsageError(description: "usage: tailcar inject -f FILE --log-dir DIR [options]; see 'tailcar help'")
            }
            input = file
            var chosen = InjectionOptions(logDirectory: logDirectory, image: parsed.value("image") ?? "tailcar:\(tailcarVersion)")
            if let name = parsed.value("config-map") { chosen.configMap = name }
            if let name = parsed.value("name") { chosen.containerName = name }
            chosen.nativeSidecar = !parsed.flag("classic")
            chosen.userID = parsed.value("user-id")
            chosen.userDefinedID = parsed.value("user-defined-id")
            chosen.region = parsed.value("region")
            if let text = parsed.value("stop-delay") {
                guard let seconds = Int(text), seconds >= 0, seconds <= 3600 else {
                    throw UsageError(description: "--stop-delay expects whole seconds from 0 to 3600, got \"\(text)\"")
                }
                chosen.stopDelaySeconds = seconds
            }
            options = chosen
        } catch {
            printError("tailcar inject: \(error)")
            return 2
        }
        let bytes: [UInt8]
        do {
            bytes = try ParseCommand.readAll(input == "-" ? nil : input)
        } catch {
            printError("tailcar inject: \(error)")
            return 1
        }
        do throws(InjectError) {
            var injector = try SidecarInjector(options: options)
            let documents: [YAMLTree]
            do {
                documents = try YAMLTree.documents(bytes, file: input == "-" ? "stdin" : input)
            } catch { throw .yaml(error) }
            let injected = try injector.inject(documents)
            let output: [UInt8]
            do {
                output = try YAMLTree.emit(injected)
            } catch { throw .yaml(error) }
            for note in injector.notes { printError("tailcar inject: \(note)") }
            RegexCommand.writeAll(1, output)
            return 0
        } catch {
            printError("tailcar inject: \(error)")
            if case .invalidOption = error { return 2 }
            return 1
        }
    }
}
