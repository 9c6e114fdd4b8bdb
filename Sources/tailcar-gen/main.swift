// main.swift
//
// tailcar-gen's entry: parse the command line, then generate or verify. Exit 0 on success,
// 1 when --verify finds a gap or a duplicate, 2 on a usage or system error.

import Glibc

/// Writes a diagnostic line to stderr with write(2), bypassing stdio's shared FILE state.
func printToStandardError(_ text: String) {
    var line = "tailcar-gen: " + text + "\n"
    line.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
}

signal(SIGPIPE, SIG_IGN)
do throws(GeneratorError) {
    switch try Command.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        print(helpText(), terminator: "")
    case .generate(let options):
        var generator = try Generator(options)
        let summary = try generator.run()
        if options.stats { printToStandardError(summary.line) }
    case .verify(let options):
        var verifier = SequenceVerifier(options)
        let report = try verifier.run()
        print(report.text, terminator: "")
        exit(report.isClean ? 0 : 1)
    }
} catch {
    printToStandardError(error.message)
    exit(2)
}
