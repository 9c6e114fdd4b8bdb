// Settings.swift
//
// The checked, internal form of configuration: what validation (Config/) produces from the iLogtail
// pipeline YAML/JSON or the Logtail custom resource, and what the runtime consumes. No optionals where a
// default exists, typed units (Duration, byte counts). Owns no parsing of user files.

/// Everything one `tailcar run` executes.
public struct AgentSettings: Sendable {
    public var pipelines: [PipelineSettings]

    public init(pipelines: [PipelineSettings]) { self.pipelines = pipelines }
}

/// One pipeline: inputs feed processors feed flushers.
public struct PipelineSettings: Sendable, Equatable {
    /// The pipeline's name: the file's base name without extension, or the config's `configName`.
    public var name: String
    /// The file the pipeline was read from, for messages.
    public var origin: String
    public var inputs: [FileInputSettings]
    public var processors: [ProcessorSettings]
    public var flushers: [FlusherSettings]
    /// The `__topic__` of every group from a file (Logtail `topicFormat`, iLogtail `global.TopicType`).
    public var topic: TopicSettings
    /// An AliyunLogConfig's spec.machineGroups: the pipeline applies to a sidecar whose
    /// ALIYUN_LOGTAIL_USER_DEFINED_ID is one of them. Empty: it applies everywhere.
    public var machineGroups: [String]
    /// What `tailcar bootstrap` creates in SLS for this pipeline: set for AliyunLogConfig resources only.
    public var bootstrap: BootstrapPlan?
    /// iLogtail's top-level `enable`: a disabled pipeline is checked but not run.
    public var enabled = true

    public init(name: String, origin: String, inputs: [FileInputSettings],
                processors: [ProcessorSettings] = [], flushers: [FlusherSettings], topic: TopicSettings = .none,
                machineGroups: [String] = []) {
        self.name = name
        self.origin = origin
        self.inputs = inputs
        self.processors = processors
        self.flushers = flushers
        self.topic = topic
        self.machineGroups = machineGroups
    }
}

/// How a file's topic is found, once, when the file is opened.
public enum TopicSettings: Sendable, Equatable {
    /// No topic (Logtail `none`, `default`).
    case none
    /// The same text for every file (Logtail `customized://TEXT`, iLogtail TopicType `custom`).
    case fixed(String)
    /// A regex that must match the whole path; its capture groups make the topic (Logtail: any other
    /// `topicFormat`; iLogtail TopicType `filepath`).
    case filePath(regex: String)
}

/// `input_file`.
public struct FileInputSettings: Sendable, Equatable {
    /// Glob patterns (`*`, `?`, `[...]`, `**`) of absolute paths.
    public var filePaths: [String]
    /// How many directory levels below a pattern's fixed prefix `**` may descend (iLogtail MaxDirSearchDepth).
    public var maxDirSearchDepth: Int
    /// Glob patterns of paths never collected (iLogtail ExcludeFilePaths).
    public var excludeFilePaths: [String]
    /// Read files that exist at start from their beginning instead of their last `tailSizeBytes`.
    public var tailingAllMatchedFiles: Bool
    /// How much of a file that exists at start is read (Logtail `tail_size_kb`, default 1024 KiB).
    public var tailSizeBytes: Int
    /// Longest line; a longer one is split into pieces of this size and counted.
    public var maxLineBytes: Int
    /// How long a last line without newline waits for its newline before it is sent as it is.
    public var incompleteLineTimeout: Duration
    public var multiline: MultilineSettings
    /// Directories besides each file's own where logrotate puts copies (`olddir`): searched for the unread
    /// rest of a truncated file (Tailcar's `RotationDirectories`).
    public var rotationDirectories: [String] = []

    public init(filePaths: [String], maxDirSearchDepth: Int = 0, excludeFilePaths: [String] = [],
                tailingAllMatchedFiles: Bool = false, tailSizeBytes: Int = 1024 * 1024,
                maxLineBytes: Int = 512 * 1024, incompleteLineTimeout: Duration = .seconds(5),
                multiline: MultilineSettings = .singleLine) {
        self.filePaths = filePaths
        self.maxDirSearchDepth = maxDirSearchDepth
        self.excludeFilePaths = excludeFilePaths
        self.tailingAllMatchedFiles = tailingAllMatchedFiles
        self.tailSizeBytes = tailSizeBytes
        self.maxLineBytes = maxLineBytes
        self.incompleteLineTimeout = incompleteLineTimeout
        self.multiline = multiline
    }
}

/// How lines become records (Logtail `logBeginRegex`, iLogtail `Multiline`).
public enum MultilineSettings: Sendable, Equatable {
    case singleLine
    /// A record starts at a line matching `start`; `continuePattern` and `end` refine it (iLogtail custom mode).
    /// Each pattern must match a whole line, as Logtail's and iLogtail's regex_match do. A line outside any
    /// record stands alone, or is dropped when `discardUnmatched` (iLogtail `UnmatchedContentTreatment:
    /// discard`, Logtail `discardUnmatch`). The open record is sent after the input's `incompleteLineTimeout`
    /// (`FlushTimeoutSecs`) without growth.
    case custom(start: String?, continuePattern: String?, end: String?, discardUnmatched: Bool, maxRecordBytes: Int)
}

/// What a parser does with its source field (iLogtail CommonParserOptions; Logtail discardUnmatch).
public struct SourceHandling: Sendable, Equatable {
    public var sourceKey: String
    /// Keep the raw value when the record does not parse (under `renamedSourceKey`, or `__raw_log__` in
    /// the Logtail form); else the record loses it, and is dropped if nothing else remains.
    public var keepOnFailure: Bool
    /// Keep the raw value when the record parses, too.
    public var keepOnSuccess: Bool
    /// The key the kept value goes under.
    public var renamedSourceKey: String
    /// The key the value kept on success goes under: `renamedSourceKey`, except in the Logtail form, where
    /// `enableRawLog` keeps it under `__raw__` while an unmatched record keeps it under `__raw_log__`.
    public var keptOnSuccessKey: String

    public init(sourceKey: String = "content", keepOnFailure: Bool = true, keepOnSuccess: Bool = false,
                renamedSourceKey: String? = nil, keptOnSuccessKey: String? = nil) {
        self.sourceKey = sourceKey
        self.keepOnFailure = keepOnFailure
        self.keepOnSuccess = keepOnSuccess
        self.renamedSourceKey = renamedSourceKey ?? sourceKey
        self.keptOnSuccessKey = keptOnSuccessKey ?? renamedSourceKey ?? sourceKey
    }
}

/// Processors, applied to every record in order.
public enum ProcessorSettings: Sendable, Equatable {
    case parseRegex(SourceHandling, regex: String, keys: [String])
    case parseJSON(SourceHandling)
    /// `overflow`: iLogtail OverflowedFieldsTreatment, `extend`, `keep` or `discard`.
    case parseDelimiter(SourceHandling, separator: String, quote: UInt8?, keys: [String],
                        allowingShortenedFields: Bool, overflow: String)
    case parseApsara(SourceHandling, timezone: String?)
    case parseTimestamp(sourceKey: String, format: String, timezone: String?)
    /// A record is kept when every Include pair matches and no Exclude pair does.
    case filterRegex(include: [FieldPattern], exclude: [FieldPattern])
    /// `processor_test_burn_cpu`: spends a fixed amount of the thread's CPU time on every record and changes
    /// nothing (a pipeline whose cost per line is known, for testing `tailcar bench`). ConfigLoader refuses it
    /// unless the context allows test processors (TAILCAR_TEST_PROCESSORS=1).
    case burnCPU(microsecondsPerRecord: Int)
}

/// A field name and a regex over its value.
public struct FieldPattern: Sendable, Equatable {
    public var key: String
    public var regex: String

    public init(key: String, regex: String) {
        self.key = key
        self.regex = regex
    }
}

/// Where records go.
public enum FlusherSettings: Sendable, Equatable {
    /// One JSON object per record on standard output.
    case stdout
    /// One JSON object per record appended to a file.
    case file(path: String)
    /// Acknowledges and discards (benchmarks).
    case blackhole
    case sls(SLSFlusherSettings)
    case otlp(OTLPFlusherSettings)
    case clickhouse(ClickHouseFlusherSettings)
}

/// `flusher_sls`.
public struct SLSFlusherSettings: Sendable, Equatable {
    public enum Compression: String, Sendable { case lz4, zstd, none }

    public var endpoint: String
    public var project: String
    public var logstore: String
    public var region: String
    public var topicKey: String?
    public var compression: Compression
    /// zstd's level (Tailcar's `ZstdLevel`): 1 as the SDKs; negative levels are faster, higher ones smaller.
    public var zstdLevel: Int32
    /// lz4's acceleration (Tailcar's `LZ4Acceleration`): 1 as `lz4 -1`; higher is faster and larger.
    public var lz4Acceleration: Int32

    public static let zstdLevels: ClosedRange<Int32> = -7...19
    public static let lz4Accelerations: ClosedRange<Int32> = 1...64

    public init(endpoint: String, project: String, logstore: String, region: String = "",
                topicKey: String? = nil, compression: Compression = .lz4, zstdLevel: Int32 = 1,
                lz4Acceleration: Int32 = 1) {
        self.endpoint = endpoint
        self.project = project
        self.logstore = logstore
        self.region = region
        self.topicKey = topicKey
        self.compression = compression
        self.zstdLevel = zstdLevel
        self.lz4Acceleration = lz4Acceleration
    }
}

/// A header a flusher adds to every request (a tenant, a token). Values are never logged.
public struct HTTPHeaderSetting: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// `flusher_otlp`: OTLP/HTTP logs.
public struct OTLPFlusherSettings: Sendable, Equatable {
    public enum Compression: String, Sendable, CustomStringConvertible {
        case lz4, zstd, gzip, none
        public var description: String { rawValue }
    }

    /// The base URL, `scheme://host[:port]`; `path` is appended.
    public var endpoint: String
    public var path: String
    public var compression: Compression
    public var headers: [HTTPHeaderSetting]
    /// The field that becomes a LogRecord's body; every other field is a log attribute.
    public var bodyKey: String

    public init(endpoint: String, path: String = "/v1/logs", compression: Compression = .gzip,
                headers: [HTTPHeaderSetting] = [], bodyKey: String = "content") {
        self.endpoint = endpoint
        self.path = path
        self.compression = compression
        self.headers = headers
        self.bodyKey = bodyKey
    }
}

/// `flusher_clickhouse`: rows inserted over ClickHouse's HTTP interface.
public struct ClickHouseFlusherSettings: Sendable, Equatable {
    public enum Compression: String, Sendable, CustomStringConvertible {
        case lz4, zstd, gzip, none
        public var description: String { rawValue }
    }
    /// `headers`: X-ClickHouse-User / X-ClickHouse-Key; `basic`: an Authorization header.
    public enum Auth: String, Sendable { case headers, basic }

    /// `scheme://host[:port]` of the HTTP interface (8123 by default).
    public var endpoint: String
    public var database: String
    public var table: String
    public var user: String
    public var password: String
    public var auth: Auth
    public var compression: Compression
    /// Fields with a String column of their own; every other field goes to the `fields` Nested column.
    public var columns: [String]
    /// Whether the database and table are created when missing, before the first insert.
    public var createTable: Bool

    public init(endpoint: String, database: String, table: String, user: String = "default", password: String = "",
                auth: Auth = .headers, compression: Compression = .lz4, columns: [String] = ["content"],
                createTable: Bool = true) {
        self.endpoint = endpoint
        self.database = database
        self.table = table
        self.user = user
        self.password = password
        self.auth = auth
        self.compression = compression
        self.columns = columns
        self.createTable = createTable
    }
}

extension ProcessorSettings {
    /// Processors that exist for tests only and are refused unless the context allows them.
    public var isTestOnly: Bool {
        if case .burnCPU = self { return true }
        return false
    }
}
