// Options.swift
//
// Command-line flags: the declarative table (name, value kind, help), the parser that accepts Go
// `flag` spellings as mock_log does (`--a=b`, `--a b`, `-a=b`, bare `--bool`), and the validated
// options with no optionals left to interpret. Owns the help text; does not run anything.

enum LogType: String, CaseIterable {
    case nginx, nginxMain = "nginx-main", json, delimiter, apsara, java
}

enum RotationMode: String {
    case none, rename, copytruncate
}

struct GeneratorOptions {
    var logType = LogType.nginx
    var path: String?
    /// nil: unlimited (`--total-count=-1`, or `--duration` alone).
    var totalCount: UInt64? = 100
    var logsPerSecond: UInt64 = 0
    var toStdout = false
    var toStderr = false
    var durationNanos: UInt64?
    var seed: UInt64 = 1
    var rotation = RotationMode.none
    var rotateBytes: UInt64 = 0
    var rotateRecords: UInt64 = 0
    var rotateKeep = 10
    var lineBytes = 0
    var fsync = false
    var realTime = false
    var firstSequence: UInt64 = 1
    var append = false
    var delimiter = UInt8(ascii: "|")
    var stats = false
    /// With a rate: one write(2) per record, each at its due time, instead of a batch every 10 ms.
    var writePerLine = false
}

struct VerifyOptions {
    var files: [String] = []
    var firstSequence: UInt64 = 1
    var expectCount: UInt64?
    var listLimit = 20
}

enum Command {
    case help
    case generate(GeneratorOptions)
    case verify(VerifyOptions)
}

/// One accepted flag. `isBool` flags take a value only as `--flag=value`, as in Go's flag package.
struct FlagSpec {
    let name: String
    let isBool: Bool
    let help: String
}

/// The raw `name -> value` pairs of a command line; repeated flags keep every value in order.
struct RawFlags {
    var values: [String: [String]] = [:]

    static func parse(_ arguments: [String]) throws(GeneratorError) -> RawFlags {
        var raw = RawFlags()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument.count > 1 else {
                throw .badValue(flag: "(positional)", value: argument, expected: "flags only, like --path=FILE")
            }
            let body = argument.drop { $0 == "-" }
            let parts = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard let spec = flagTable.first(where: { $0.name == name }) else {
                throw .unknownFlag(argument, suggestion: suggestion(for: name))
            }
            if parts.count == 2 {
                raw.values[name, default: []].append(String(parts[1]))
            } else if spec.isBool {
                raw.values[name, default: []].append("true")
            } else if index < arguments.count {
                raw.values[name, default: []].append(arguments[index])
                index += 1
            } else {
                throw .missingValue(flag: name)
            }
        }
        return raw
    }

    func last(_ name: String) -> String? { values[name]?.last }

    /// The known flag sharing the longest prefix with `name`, if any shares three characters.
    static func suggestion(for name: String) -> String? {
        let scored = flagTable.map { spec in (spec.name, zip(spec.name, name).prefix { $0 == $1 }.count) }
        guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 >= 3 else { return nil }
        return best.0
    }
}

let flagTable: [FlagSpec] = [
    FlagSpec(name: "help", isBool: true, help: "print this help and exit"),
    FlagSpec(name: "log-type", isBool: false, help: """
        nginx | nginx-main | json | delimiter | apsara | java (default nginx).
            nginx: the Logtail sidecar demo's layout, `TIME IP - - "METHOD URL PROTO" LATENCY PAYLOAD STATUS
                   SIZE REFERER "AGENT" seq=N`, matching its regex; nginx-main: nginx's standard `main`
                   format with seq=N in the query string; json: one object per line with "seq":N;
                   delimiter: fields split by --delimiter with a seq=N field; apsara: [time]\\t[level]...
                   with seq:N; java: logback lines, half of them ERRORs with multi-line stack traces,
                   seq=N in the first line's message
        """),
    FlagSpec(name: "path", isBool: false, help: "write records to FILE (created; truncated unless --append)"),
    FlagSpec(name: "total-count", isBool: false,
             help: "records to write; -1 = unlimited (default 100, unlimited if only --duration is given)"),
    FlagSpec(name: "logs-per-sec", isBool: false, help: "rate limit in records per second; 0 = as fast as possible (default 0)"),
    FlagSpec(name: "write-per-line", isBool: true,
             help: "with --logs-per-sec: one write(2) per record at its due time, as an application logging line by line does (default: a batch every 10 ms)"),
    FlagSpec(name: "duration", isBool: false, help: "stop after SECONDS (decimal allowed), whichever of count and duration comes first"),
    FlagSpec(name: "stdout", isBool: true, help: "also write every record to stdout (default: true only when no --path)"),
    FlagSpec(name: "stderr", isBool: true, help: "also write every record to stderr (default false)"),
    FlagSpec(name: "seed", isBool: false, help: "PRNG seed; a seed gives the same bytes on every run (default 1)"),
    FlagSpec(name: "real-time", isBool: true,
             help: "stamp records with the wall clock; default: 2026-01-01T00:00:00+08:00 plus 1 ms per sequence number"),
    FlagSpec(name: "first-seq", isBool: false, help: "sequence number of the first record (default 1)"),
    FlagSpec(name: "line-bytes", isBool: false,
             help: "pad each line (a java record's first line) with filler to about N bytes, N <= 32768 (default: natural, ~150-300)"),
    FlagSpec(name: "delimiter", isBool: false, help: "field separator for --log-type=delimiter: one of | , ; tab (default |)"),
    FlagSpec(name: "rotate", isBool: false, help: """
        rename | copytruncate. rename: FILE -> FILE.1 (older .k shifted to .k+1), then a new FILE;
            copytruncate: FILE copied to FILE.1, then truncated in place. Needs --rotate-bytes or --rotate-records
        """),
    FlagSpec(name: "rotate-bytes", isBool: false, help: "rotate before the record that would start past N bytes in the file"),
    FlagSpec(name: "rotate-records", isBool: false, help: "rotate every N records"),
    FlagSpec(name: "rotate-keep", isBool: false, help: "rotated files kept, FILE.1 ... FILE.N; older ones are overwritten (default 10)"),
    FlagSpec(name: "log-file-size", isBool: false, help: "mock_log alias: --rotate=rename --rotate-bytes=N"),
    FlagSpec(name: "log-file-count", isBool: false, help: "mock_log alias of --rotate-keep"),
    FlagSpec(name: "append", isBool: true, help: "append to an existing FILE instead of truncating it"),
    FlagSpec(name: "fsync", isBool: true, help: "fsync(2) FILE after every write(2)"),
    FlagSpec(name: "stats", isBool: true, help: "print records, bytes, seconds and MB/s to stderr at the end"),
    FlagSpec(name: "verify", isBool: false, help: """
        check FILE (repeatable) instead of generating: read lines (raw records, or collector JSON lines whose
            "content" holds the record), take the first seq=N / seq:N / "seq":N of each line, and report missing
            and duplicated numbers. Exit 0 when clean, 1 otherwise
        """),
    FlagSpec(name: "expect-count", isBool: false,
             help: "with --verify: expect exactly first-seq ... first-seq+N-1 (default: up to the largest seen)"),
    FlagSpec(name: "list-limit", isBool: false, help: "with --verify: list at most N missing ranges and duplicates (default 20)"),
]

func helpText() -> String {
    var text = """
        tailcar-gen: writes realistic, sequence-numbered logs fast or at a rate, with optional rotation.
        Accepts mock_log's flags (--log-type, --path, --total-count, --logs-per-sec, --stdout, --stderr).

        usage: tailcar-gen --log-type=nginx --path=/var/log/app.log --total-count=1000000 [flags]
               tailcar-gen --verify=collected.jsonl [--verify=more.log] [--expect-count=N]

        Flags (also -flag, --flag VALUE; booleans as --flag or --flag=true|false):

        """
    let placeholders = ["log-type": "TYPE", "path": "FILE", "verify": "FILE", "duration": "SECONDS",
                        "rotate": "MODE", "delimiter": "C"]
    for spec in flagTable {
        let value = spec.isBool ? "" : "=" + (placeholders[spec.name] ?? "N")
        text += "  --\(spec.name)\(value)\n"
        for line in spec.help.split(separator: "\n") {
            text += "      " + line.drop { $0 == " " } + "\n"
        }
    }
    return text
}
