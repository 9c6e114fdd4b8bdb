// ConfigLoader.swift
//
// Loads what `--config` names: one pipeline file (YAML or JSON, iLogtail form) or a directory of them
// (*.yaml, *.yml, *.json; dotfiles and other names skipped; in name order). Each file is a pipeline named
// after its base name. Every error of every file is collected, so one run shows them all. The sidecar's
// environment (SidecarContext) then decides which resources apply here and fills in the SLS endpoint.

import Glibc

public struct ConfigLoadResult: Sendable {
    /// Nil when any error was found.
    public var settings: AgentSettings?
    public var warnings: [ConfigWarning]
    public var errors: [ConfigError]
    /// Resources skipped for other machine groups, where the endpoint came from.
    public var notes: [ConfigNote] = []
}

public enum ConfigLoader {
    /// Larger files are refused before parsing: no pipeline needs megabytes.
    static let maxFileBytes = 4 << 20

    public static func load(path: String, context: SidecarContext = SidecarContext()) -> ConfigLoadResult {
        var diagnosis = Diagnosis()
        var pipelines: [PipelineSettings] = []
        let files: [String]
        do {
            files = try pipelineFiles(at: path)
        } catch {
            return ConfigLoadResult(settings: nil, warnings: [],
                                    errors: [ConfigError(SourcePosition(file: path, line: 0, column: 0), error.description)])
        }
        if files.isEmpty {
            diagnosis.errors.append(ConfigError(SourcePosition(file: path, line: 0, column: 0),
                                                "no pipeline files (*.yaml, *.yml, *.json) found"))
        }
        for file in files { pipelines += load(file: file, &diagnosis) }
        var notes: [ConfigNote] = []
        pipelines = applying(context, to: pipelines, notes: &notes)
        if !context.allowsTestProcessors {
            for pipeline in pipelines where pipeline.processors.contains(where: \.isTestOnly) {
                diagnosis.errors.append(ConfigError(SourcePosition(file: pipeline.origin, line: 1, column: 1),
                                                    field: "processors",
                                                    "\(PipelineValidator.testBurnCPUType) is a test-only processor (it burns CPU "
                                                    + "on every record); it is accepted only when TAILCAR_TEST_PROCESSORS=1"))
            }
        }
        var seen = Set<String>()
        for pipeline in pipelines where !seen.insert(pipeline.name).inserted {
            diagnosis.errors.append(ConfigError(SourcePosition(file: pipeline.origin, line: 1, column: 1),
                                                "a second pipeline is named \"\(pipeline.name)\""))
        }
        let settings = diagnosis.errors.isEmpty ? AgentSettings(pipelines: pipelines) : nil
        return ConfigLoadResult(settings: settings, warnings: diagnosis.warnings, errors: diagnosis.errors, notes: notes)
    }

    /// Keeps the enabled pipelines for this sidecar's machine groups and gives SLS flushers without an endpoint
    /// the region's. A pipeline with `enable: false`, or a resource whose machineGroups name none of the
    /// sidecar's user-defined ids, is skipped with a note; with no user-defined id set, machine groups
    /// are not checked (one note says so).
    static func applying(_ context: SidecarContext, to pipelines: [PipelineSettings],
                         notes: inout [ConfigNote]) -> [PipelineSettings] {
        var kept: [PipelineSettings] = []
        var unchecked: [String] = []
        for var pipeline in pipelines {
            guard pipeline.enabled else {
                notes.append(ConfigNote(file: pipeline.origin, "pipeline \"\(pipeline.name)\" has enable: false: skipped"))
                continue
            }
            if !pipeline.machineGroups.isEmpty {
                if !context.userDefinedIDs.isEmpty {
                    guard pipeline.machineGroups.contains(where: context.userDefinedIDs.contains) else {
                        notes.append(ConfigNote(file: pipeline.origin, "resource \"\(pipeline.name)\" is for machine groups "
                                                + "\(pipeline.machineGroups), not this sidecar's user-defined ids "
                                                + context.userDefinedIDsDescription + ": skipped"))
                        continue
                    }
                } else {
                    unchecked.append(pipeline.name)
                }
            }
            pipeline.flushers = pipeline.flushers.map { flusher in
                guard case .sls(var sls) = flusher, sls.endpoint.isEmpty, let endpoint = context.dataEndpoint else { return flusher }
                sls.endpoint = endpoint
                if sls.region.isEmpty, let region = context.region { sls.region = region }
                return .sls(sls)
            }
            kept.append(pipeline)
        }
        if !unchecked.isEmpty {
            notes.append(ConfigNote(file: "environment", "ALIYUN_LOGTAIL_USER_DEFINED_ID is not set: the machineGroups of "
                                    + "\(unchecked) are not checked, they apply"))
        }
        return kept
    }

    static func load(file: String, _ diagnosis: inout Diagnosis) -> [PipelineSettings] {
        let start = SourcePosition(file: file, line: 1, column: 1)
        let bytes: [UInt8]
        do {
            guard let read = try readWholeFile(file) else {
                diagnosis.errors.append(ConfigError(start, "file not found"))
                return []
            }
            bytes = read
        } catch {
            diagnosis.errors.append(ConfigError(start, error.description))
            return []
        }
        guard bytes.count <= maxFileBytes else {
            diagnosis.errors.append(ConfigError(start, "file is \(bytes.count) bytes; pipeline files are limited to \(maxFileBytes)"))
            return []
        }
        let documents: [ConfigValue]
        do {
            documents = try YAMLReader.documents(bytes, file: file)
        } catch {
            diagnosis.errors.append(error)
            return []
        }
        guard documents.contains(where: { !$0.isNull }) else {
            diagnosis.errors.append(ConfigError(start, "the file holds no pipeline (expected inputs and flushers)"))
            return []
        }
        let base = baseName(file)
        var pipelines: [PipelineSettings] = []
        for (index, document) in documents.enumerated() where !document.isNull {
            let name = documents.count > 1 ? "\(base)#\(index + 1)" : base
            let pipeline = LogtailConfigValidator.recognises(document)
                ? LogtailConfigValidator.pipeline(document, fallbackName: name, &diagnosis)
                : PipelineValidator.pipeline(document, name: name, &diagnosis)
            if let pipeline { pipelines.append(pipeline) }
        }
        return pipelines
    }

    /// The file itself, or the pipeline files of a directory in name order.
    static func pipelineFiles(at path: String) throws(SystemError) -> [String] {
        let status = try FileStatus.of(path: path)
        guard status.isDirectory else { return [path] }
        var files: [String] = []
        for entry in try directoryEntries(path) {
            let name = entry.name
            guard !name.hasPrefix("."), name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json")
            else { continue }
            let full = joinPath(path, name)
            if (try? FileStatus.of(path: full))?.isRegularFile == true { files.append(full) }
        }
        return files.sorted()
    }

    private static func baseName(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }
}

/// The effective pipelines, as `tailcar check-config` prints them.
public func describe(_ settings: AgentSettings) -> String {
    var lines: [String] = []
    for pipeline in settings.pipelines {
        let origin = pipeline.origin.hasPrefix("sls:") ? pipeline.origin : "file:" + pipeline.origin
        lines.append("pipeline \(pipeline.name) (\(origin))")
        for input in pipeline.inputs {
            lines.append("  input_file \(input.filePaths.joined(separator: ", "))")
            lines.append("    MaxDirSearchDepth \(input.maxDirSearchDepth), "
                         + (input.tailingAllMatchedFiles ? "existing files from their start"
                                                         : "existing files from their last \(input.tailSizeBytes / 1024) KiB")
                         + ", lines up to \(input.maxLineBytes) bytes, incomplete line sent after \(input.incompleteLineTimeout)")
            if !input.excludeFilePaths.isEmpty { lines.append("    excluding \(input.excludeFilePaths.joined(separator: ", "))") }
            if case .custom(let start, let continuation, let end, let discard, _) = input.multiline {
                lines.append("    multi-line (whole-line patterns): start \(start ?? "-"), continue \(continuation ?? "-"), "
                             + "end \(end ?? "-"), unmatched lines \(discard ? "dropped" : "kept one by one")")
            }
        }
        switch pipeline.topic {
        case .none: break
        case .fixed(let text): lines.append("  topic \(text.debugDescription)")
        case .filePath(let regex): lines.append("  topic from the file path: \(regex)")
        }
        for processor in pipeline.processors { lines.append("  " + describe(processor)) }
        for flusher in pipeline.flushers {
            switch flusher {
            case .stdout: lines.append("  flusher_stdout")
            case .file(let path): lines.append("  flusher_file \(path)")
            case .blackhole: lines.append("  flusher_blackhole")
            case .otlp(let otlp):
                let headers = otlp.headers.isEmpty ? "" : ", headers " + otlp.headers.map(\.name).joined(separator: " ")
                lines.append("  flusher_otlp \(otlp.endpoint)\(otlp.path), \(otlp.compression.rawValue), body \(otlp.bodyKey)\(headers)")
            case .clickhouse(let clickhouse):
                let create = clickhouse.createTable ? "created when missing" : "not created"
                lines.append("  flusher_clickhouse \(clickhouse.endpoint) table \(clickhouse.database).\(clickhouse.table) (\(create)), "
                             + "columns \(clickhouse.columns.joined(separator: " ")), user \(clickhouse.user) by \(clickhouse.auth.rawValue), "
                             + clickhouse.compression.rawValue)
            case .sls(let sls):
                var host = sls.endpoint.isEmpty ? "(no endpoint: set ALIYUN_LOGTAIL_CONFIG or outputDetail.endpoint)"
                                                : "\(sls.project).\(sls.endpoint)"
                if sls.endpoint.contains("://"), let parsed = try? HTTPEndpoint(parsing: sls.endpoint) {
                    host = "\(parsed.scheme.rawValue)://\(sls.project).\(parsed.authority)"
                }
                var codec = sls.compression.rawValue
                if sls.compression == .zstd && sls.zstdLevel != 1 { codec += " level \(sls.zstdLevel)" }
                if sls.compression == .lz4 && sls.lz4Acceleration != 1 { codec += " acceleration \(sls.lz4Acceleration)" }
                lines.append("  flusher_sls project \(sls.project) logstore \(sls.logstore) at \(host), \(codec)")
            }
        }
    }
    return lines.joined(separator: "\n")
}

private func describe(_ processor: ProcessorSettings) -> String {
    func source(_ handling: SourceHandling) -> String {
        "from \(handling.sourceKey)" + (handling.keepOnFailure ? ", unparsed kept as \(handling.renamedSourceKey)" : ", unparsed dropped")
    }
    switch processor {
    case let .parseRegex(handling, regex, keys):
        return "processor_parse_regex_native \(source(handling)): \(regex) -> \(keys.joined(separator: ", "))"
    case let .parseJSON(handling):
        return "processor_parse_json_native \(source(handling))"
    case let .burnCPU(micros):
        return "\(PipelineValidator.testBurnCPUType) (test only): \(micros) µs of CPU per record"
    case let .parseDelimiter(handling, separator, _, keys, _, _):
        return "processor_parse_delimiter_native \(source(handling)): split on \(separator.debugDescription) -> \(keys.joined(separator: ", "))"
    case let .parseApsara(handling, _):
        return "processor_parse_apsara_native \(source(handling))"
    case let .parseTimestamp(key, format, zone):
        return "processor_parse_timestamp_native \(key) as \(format)" + (zone.map { " in \($0)" } ?? "")
    case let .filterRegex(include, exclude):
        return "processor_filter_regex_native include \(include.map { "\($0.key)=~\($0.regex)" }) exclude \(exclude.map { "\($0.key)=~\($0.regex)" })"
    }
}
