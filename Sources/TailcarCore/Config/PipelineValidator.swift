// PipelineValidator.swift
//
// Gives meaning to one iLogtail pipeline document: `inputs`, `processors` and `flushers` become
// PipelineSettings, with iLogtail's field names and defaults. Unknown fields are warnings with the nearest
// known name; wrong types and missing fields are errors naming the field path and the expected form.

enum PipelineValidator {
    static let topLevel = ["enable", "global", "inputs", "processors", "aggregators", "flushers"]

    static func pipeline(_ root: ConfigValue, name: String, _ diagnosis: inout Diagnosis) -> PipelineSettings? {
        guard var reader = FieldReader(root, path: "", subject: "the pipeline", into: &diagnosis) else { return nil }
        let errorsBefore = diagnosis.errors.count
        let enabled = reader.bool("enable", default: true, &diagnosis)
        var topic = TopicSettings.none
        if let global = reader.raw("global"), !global.isNull { topic = TopicConfig.pipelineGlobal(global, &diagnosis) }
        _ = reader.raw("aggregators")
        let inputs = list(reader.raw("inputs"), "inputs", required: true, root, &diagnosis).compactMap { item, path in
            input(item, path: path, &diagnosis)
        }
        let processors = list(reader.raw("processors"), "processors", required: false, root, &diagnosis)
            .compactMap { item, path in processor(item, path: path, &diagnosis) }
        let flushers = list(reader.raw("flushers"), "flushers", required: true, root, &diagnosis).compactMap { item, path in
            flusher(item, path: path, &diagnosis)
        }
        reader.finish(&diagnosis)
        guard diagnosis.errors.count == errorsBefore else { return nil }
        var settings = PipelineSettings(name: name, origin: root.position.file, inputs: inputs, processors: processors,
                                        flushers: flushers, topic: topic)
        settings.enabled = enabled
        return settings
    }

    /// The items of a list field with their paths (`inputs[0]`); an error when it is required and absent.
    private static func list(_ value: ConfigValue?, _ key: String, required: Bool, _ root: ConfigValue,
                             _ diagnosis: inout Diagnosis) -> [(ConfigValue, String)] {
        guard let value, !value.isNull else {
            if required { diagnosis.errors.append(ConfigError(root.position, field: key, "is required: a list of plugins")) }
            return []
        }
        guard case .sequence(let items) = value.node else {
            diagnosis.errors.append(ConfigError(value.position, field: key, "expected a list of plugins, found \(value.kindName)"))
            return []
        }
        if items.isEmpty && required {
            diagnosis.errors.append(ConfigError(value.position, field: key, "needs at least one plugin"))
        }
        return items.enumerated().map { ($0.element, "\(key)[\($0.offset)]") }
    }

    /// Reads `Type` and checks it is one of `types`.
    private static func pluginType(_ reader: inout FieldReader, _ types: [String], _ diagnosis: inout Diagnosis) -> String? {
        guard let type = reader.string("Type", required: true, &diagnosis) else { return nil }
        guard types.contains(type) else {
            var message = "unknown plugin type \"\(type)\""
            if let suggestion = nearest(type, in: types) { message += "; did you mean \"\(suggestion)\"?" }
            message += " (supported: \(types.joined(separator: ", ")))"
            diagnosis.errors.append(ConfigError(reader.value.position, field: reader.path + ".Type", message))
            return nil
        }
        return type
    }

    // MARK: inputs

    private static func input(_ value: ConfigValue, path: String, _ diagnosis: inout Diagnosis) -> FileInputSettings? {
        guard var reader = FieldReader(value, path: path, subject: "input_file", into: &diagnosis),
              pluginType(&reader, ["input_file"], &diagnosis) != nil else { return nil }
        let errorsBefore = diagnosis.errors.count
        let paths = reader.stringList("FilePaths", required: true, &diagnosis)
        for (index, filePath) in paths.enumerated() where !filePath.hasPrefix("/") {
            diagnosis.errors.append(ConfigError(value.position, field: "\(path).FilePaths[\(index)]",
                                                "\"\(filePath)\" must be an absolute path"))
        }
        var settings = FileInputSettings(filePaths: paths)
        settings.maxDirSearchDepth = reader.int("MaxDirSearchDepth", default: 0, range: 0...1000, &diagnosis)
        settings.excludeFilePaths = reader.stringList("ExcludeFilePaths", &diagnosis)
        settings.tailingAllMatchedFiles = reader.bool("TailingAllMatchedFiles", default: false, &diagnosis)
        settings.tailSizeBytes = reader.int("TailSizeKB", default: 1024, range: 0...104_857_600, &diagnosis) * 1024
        settings.incompleteLineTimeout = .seconds(reader.int("FlushTimeoutSecs", default: 5, range: 1...3600, &diagnosis))
        settings.maxLineBytes = reader.int("MaxLineBytes", default: 512 * 1024, range: 1024...(64 << 20), &diagnosis)
        if let encoding = reader.string("FileEncoding", default: "utf8", &diagnosis), encoding.lowercased() != "utf8" {
            diagnosis.errors.append(ConfigError(value.position, field: path + ".FileEncoding",
                                                "only utf8 is supported, found \"\(encoding)\""))
        }
        if reader.bool("EnableContainerDiscovery", default: false, &diagnosis) {
            diagnosis.warnings.append(ConfigWarning(value.position, field: path + ".EnableContainerDiscovery",
                                                    "a sidecar collects the shared directory only; container discovery is ignored"))
        }
        settings.rotationDirectories = reader.stringList("RotationDirectories", &diagnosis)
        for (index, directory) in settings.rotationDirectories.enumerated() where !directory.hasPrefix("/") {
            diagnosis.errors.append(ConfigError(value.position, field: "\(path).RotationDirectories[\(index)]",
                                                "\"\(directory)\" must be an absolute path"))
        }
        if let multiline = reader.raw("Multiline"), !multiline.isNull {
            settings.multiline = self.multiline(multiline, path: path + ".Multiline", &diagnosis)
        }
        reader.finish(&diagnosis)
        return diagnosis.errors.count == errorsBefore ? settings : nil
    }

    private static func multiline(_ value: ConfigValue, path: String, _ diagnosis: inout Diagnosis) -> MultilineSettings {
        guard var reader = FieldReader(value, path: path, subject: "Multiline", into: &diagnosis) else { return .singleLine }
        let mode = reader.string("Mode", default: "custom", &diagnosis) ?? "custom"
        let start = pattern(reader.string("StartPattern", &diagnosis))
        let continuation = pattern(reader.string("ContinuePattern", &diagnosis))
        let end = pattern(reader.string("EndPattern", &diagnosis))
        let treatment = reader.string("UnmatchedContentTreatment", default: "single_line", &diagnosis) ?? "single_line"
        if !["single_line", "discard"].contains(treatment) {
            diagnosis.errors.append(ConfigError(value.member("UnmatchedContentTreatment")?.position ?? value.position,
                                                field: path + ".UnmatchedContentTreatment",
                                                "must be single_line or discard, found \"\(treatment)\""))
        }
        for (field, text) in [("StartPattern", start), ("ContinuePattern", continuation), ("EndPattern", end)] {
            if let text {
                checkRegex(text, keys: nil, regexAt: value.member(field)?.position ?? value.position,
                           regexField: path + "." + field, &diagnosis)
            }
        }
        reader.finish(&diagnosis)
        guard mode == "custom" else {
            diagnosis.errors.append(ConfigError(value.position, field: path + ".Mode", "only custom mode is supported, found \"\(mode)\""))
            return .singleLine
        }
        guard start != nil || end != nil else { return .singleLine }
        return .custom(start: start, continuePattern: continuation, end: end, discardUnmatched: treatment == "discard",
                       maxRecordBytes: 512 * 1024)
    }

    /// A multi-line pattern, or nil where iLogtail has none: empty, or `.*`, which every line matches.
    private static func pattern(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text != ".*" else { return nil }
        return text
    }

    // MARK: flushers

    private static let flusherTypes = ["flusher_stdout", "flusher_file", "flusher_blackhole", "flusher_sls",
                                      "flusher_otlp", "flusher_clickhouse"]

    private static func flusher(_ value: ConfigValue, path: String, _ diagnosis: inout Diagnosis) -> FlusherSettings? {
        guard var reader = FieldReader(value, path: path, subject: "a flusher", into: &diagnosis),
              let type = pluginType(&reader, flusherTypes, &diagnosis) else { return nil }
        defer { reader.finish(&diagnosis) }
        switch type {
        case "flusher_stdout":
            _ = reader.bool("OnlyStdout", default: true, &diagnosis)
            return .stdout
        case "flusher_file":
            guard let file = reader.string("FilePath", required: true, &diagnosis) else { return nil }
            return .file(path: file)
        case "flusher_blackhole":
            return .blackhole
        case "flusher_otlp":
            return otlp(&reader, path: path, &diagnosis)
        case "flusher_clickhouse":
            return clickhouse(&reader, path: path, &diagnosis)
        default:
            let endpoint = reader.string("Endpoint", required: true, &diagnosis)
            let project = reader.string("Project", required: true, &diagnosis)
            let logstore = reader.string("Logstore", required: true, &diagnosis)
            let region = reader.string("Region", default: "", &diagnosis) ?? ""
            let topicKey = reader.string("TopicKey", &diagnosis)
            reader.accept(["TelemetryType"])
            let compressText = reader.string("CompressType", default: "lz4", &diagnosis) ?? "lz4"
            guard let compression = SLSFlusherSettings.Compression(rawValue: compressText) else {
                diagnosis.errors.append(ConfigError(value.position, field: path + ".CompressType",
                                                    "expected lz4, zstd or none, found \"\(compressText)\""))
                return nil
            }
            let levels = SLSFlusherSettings.zstdLevels, accelerations = SLSFlusherSettings.lz4Accelerations
            let zstdLevel = reader.int("ZstdLevel", default: 1, range: Int(levels.lowerBound)...Int(levels.upperBound),
                                       &diagnosis)
            let acceleration = reader.int("LZ4Acceleration", default: 1,
                                          range: Int(accelerations.lowerBound)...Int(accelerations.upperBound), &diagnosis)
            guard let endpoint, let project, let logstore else { return nil }
            return .sls(SLSFlusherSettings(endpoint: endpoint, project: project, logstore: logstore, region: region,
                                           topicKey: topicKey, compression: compression, zstdLevel: Int32(zstdLevel),
                                           lz4Acceleration: Int32(acceleration)))
        }
    }
}
