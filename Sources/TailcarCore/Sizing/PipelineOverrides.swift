// PipelineOverrides.swift
//
// `tailcar run --replace-inputs PATH --replace-flushers blackhole|sls=URL`: the user's pipeline with its
// inputs pointed at one file and its flushers swapped, as `tailcar bench` runs it (every processor, the
// multi-line rules and the topic are kept). Owns only the rewrite of loaded settings.

public enum FlusherOverride: Sendable, Equatable {
    /// Every flusher becomes one flusher_blackhole.
    case blackhole
    /// flusher_sls keeps its project, logstore, compression and credentials, sent to this endpoint
    /// (a local SLS-compatible sink); the other flushers become blackholes.
    case slsEndpoint(String)

    /// "blackhole" or "sls=http://127.0.0.1:PORT"; nil for anything else.
    public init?(argument: String) {
        if argument == "blackhole" {
            self = .blackhole
        } else if argument.hasPrefix("sls="), argument.count > 4 {
            self = .slsEndpoint(String(argument.dropFirst(4)))
        } else {
            return nil
        }
    }

    public var argument: String {
        switch self {
        case .blackhole: return "blackhole"
        case .slsEndpoint(let url): return "sls=" + url
        }
    }
}

public struct PipelineOverrides: Sendable, Equatable {
    /// Every input reads this one file, from its first byte.
    public var inputPath: String?
    public var flusher: FlusherOverride?

    public init(inputPath: String? = nil, flusher: FlusherOverride? = nil) {
        self.inputPath = inputPath
        self.flusher = flusher
    }

    public var isEmpty: Bool { inputPath == nil && flusher == nil }

    public func apply(to settings: AgentSettings) -> AgentSettings {
        var settings = settings
        settings.pipelines = settings.pipelines.map(apply)
        return settings
    }

    public func apply(to pipeline: PipelineSettings) -> PipelineSettings {
        var pipeline = pipeline
        if let inputPath {
            pipeline.inputs = pipeline.inputs.map { input in
                var input = input
                input.filePaths = [inputPath]
                input.excludeFilePaths = []
                input.maxDirSearchDepth = 0
                input.tailingAllMatchedFiles = true
                input.rotationDirectories = []
                return input
            }
        }
        switch flusher {
        case nil:
            break
        case .blackhole:
            pipeline.flushers = [.blackhole]
        case .slsEndpoint(let endpoint):
            var flushers: [FlusherSettings] = []
            for flusher in pipeline.flushers {
                if case .sls(var sls) = flusher {
                    sls.endpoint = endpoint
                    flushers.append(.sls(sls))
                } else if !flushers.contains(.blackhole) {
                    flushers.append(.blackhole)
                }
            }
            pipeline.flushers = flushers
        }
        return pipeline
    }
}
