// Options+Validate.swift
//
// Turns RawFlags into a Command: typed numbers, checked ranges, defaults that depend on other flags
// (stdout on when there is no --path, unlimited count when only --duration is given). Owns the
// rules between flags; does not own the flag table or help text (Options.swift).

extension Command {
    static func parse(_ arguments: [String]) throws(GeneratorError) -> Command {
        let raw = try RawFlags.parse(arguments)
        if try raw.bool("help") ?? false { return .help }
        if let files = raw.values["verify"] {
            var options = VerifyOptions(files: files)
            options.firstSequence = try raw.unsigned("first-seq") ?? 1
            options.expectCount = try raw.unsigned("expect-count")
            options.listLimit = Int(try raw.unsigned("list-limit") ?? 20)
            return .verify(options)
        }
        return .generate(try GeneratorOptions(raw))
    }
}

extension GeneratorOptions {
    init(_ raw: RawFlags) throws(GeneratorError) {
        if let text = raw.last("log-type") {
            guard let type = LogType(rawValue: text) else {
                throw .badValue(flag: "log-type", value: text,
                                expected: LogType.allCases.map(\.rawValue).joined(separator: " | "))
            }
            logType = type
        }
        path = raw.last("path")
        if path?.isEmpty == true { path = nil }
        if let seconds = raw.last("duration") {
            guard let value = Double(seconds), value > 0, value < 1e9 else {
                throw .badValue(flag: "duration", value: seconds, expected: "seconds > 0")
            }
            durationNanos = UInt64(value * 1e9)
            totalCount = nil
        }
        if let count = raw.last("total-count") {
            if count == "-1" { totalCount = nil } else { totalCount = try raw.unsigned("total-count") }
        }
        logsPerSecond = try raw.unsigned("logs-per-sec") ?? 0
        toStdout = try raw.bool("stdout") ?? (path == nil)
        toStderr = try raw.bool("stderr") ?? false
        seed = try raw.unsigned("seed") ?? 1
        realTime = try raw.bool("real-time") ?? false
        firstSequence = try raw.unsigned("first-seq") ?? 1
        lineBytes = Int(try raw.unsigned("line-bytes") ?? 0)
        guard lineBytes <= 32768 else {
            throw .badValue(flag: "line-bytes", value: String(lineBytes), expected: "at most 32768")
        }
        append = try raw.bool("append") ?? false
        fsync = try raw.bool("fsync") ?? false
        stats = try raw.bool("stats") ?? false
        writePerLine = try raw.bool("write-per-line") ?? false
        if writePerLine, logsPerSecond == 0 {
            throw .conflictingFlags("--write-per-line needs --logs-per-sec=N")
        }
        try readDelimiter(raw)
        try readRotation(raw)
        guard path != nil || toStdout || toStderr else {
            throw .conflictingFlags("nothing to write to: give --path=FILE, --stdout=true or --stderr=true")
        }
    }

    private mutating func readDelimiter(_ raw: RawFlags) throws(GeneratorError) {
        guard let text = raw.last("delimiter") else { return }
        switch text {
        case "|", ",", ";": delimiter = text.utf8.first!
        case "tab", "\\t", "\t": delimiter = UInt8(ascii: "\t")
        default: throw .badValue(flag: "delimiter", value: text, expected: "one of | , ; tab")
        }
    }

    private mutating func readRotation(_ raw: RawFlags) throws(GeneratorError) {
        if let size = try raw.unsigned("log-file-size") {
            rotation = .rename
            rotateBytes = size
        }
        rotateKeep = Int(try raw.unsigned("log-file-count") ?? 10)
        if let mode = raw.last("rotate") {
            guard let parsed = RotationMode(rawValue: mode) else {
                throw .badValue(flag: "rotate", value: mode, expected: "rename | copytruncate | none")
            }
            rotation = parsed
        }
        rotateBytes = try raw.unsigned("rotate-bytes") ?? rotateBytes
        rotateRecords = try raw.unsigned("rotate-records") ?? 0
        rotateKeep = Int(try raw.unsigned("rotate-keep") ?? UInt64(rotateKeep))
        guard rotation != .none else {
            guard rotateBytes == 0, rotateRecords == 0 else {
                throw .conflictingFlags("--rotate-bytes and --rotate-records need --rotate=rename or --rotate=copytruncate")
            }
            return
        }
        guard path != nil else { throw .conflictingFlags("--rotate needs --path") }
        guard rotateBytes > 0 || rotateRecords > 0 else {
            throw .conflictingFlags("--rotate=\(rotation.rawValue) needs --rotate-bytes=N or --rotate-records=N")
        }
        guard rotateKeep >= 1 else {
            throw .badValue(flag: "rotate-keep", value: String(rotateKeep), expected: "at least 1")
        }
    }
}

extension RawFlags {
    func unsigned(_ name: String) throws(GeneratorError) -> UInt64? {
        guard let text = last(name) else { return nil }
        guard let value = UInt64(text) else {
            throw .badValue(flag: name, value: text, expected: "a non-negative integer")
        }
        return value
    }

    func bool(_ name: String) throws(GeneratorError) -> Bool? {
        guard let text = last(name) else { return nil }
        switch text {
        case "true", "1", "t", "T", "TRUE", "True": return true
        case "false", "0", "f", "F", "FALSE", "False": return false
        default: throw .badValue(flag: name, value: text, expected: "true or false")
        }
    }
}
