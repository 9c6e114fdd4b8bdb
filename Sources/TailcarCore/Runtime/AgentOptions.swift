// AgentOptions.swift
//
// Agent-wide settings that come from the command line and the environment rather than from pipeline
// files: where checkpoints live, how stopping behaves, how often to poll, how much may be in flight.

public struct AgentOptions: Sendable {
    /// Where the checkpoint file lives. Put it on a volume that outlives the container (the shared emptyDir).
    public var checkpointDirectory: String
    /// After SIGTERM: the longest the agent keeps collecting and delivering before it exits (run_logtail.sh 10).
    public var stopDelay: Duration
    /// enable_full_drain_mode: after SIGTERM, no deadline: every file is read to its end and everything
    /// delivered before the exit (a second SIGTERM stops waiting), as LoongCollector's drain mode.
    public var fullDrainMode = false
    /// The zone times without one are read in when the configuration names none (TZ; default UTC).
    public var localTimeZone = UTCOffset.utc
    /// After SIGTERM, the agent exits as soon as every file sat at its end, delivered, for this long.
    public var stopQuietPeriod: Duration
    /// When set, exit 0 once every file sat at its end, delivered, for this long (Jobs, benchmarks).
    public var exitWhenDrained: Duration?
    /// The stat-polling period: rescans, rotation checks and timeouts run this often; without inotify it
    /// is also how quickly growth is seen.
    public var pollInterval: Duration
    /// A file at its end for this long has its descriptor closed; it is reopened by identity when it grows.
    public var idleCloseAfter: Duration
    /// A renamed-away or deleted file is read until it sat at its end this long, then released.
    public var rotatedGrace: Duration
    /// Bytes of records handed to flushers and not yet acknowledged, all pipelines together (each gets an
    /// equal share), before reading pauses: the files are the buffer beyond it.
    public var maxInFlightBytes: Int
    /// Where `maxInFlightBytes` came from, said once at start.
    public var inFlightCapSource = "the default"
    /// Bytes read from a file at a time.
    public var readChunkBytes: Int
    /// Watch directories with inotify (else stat-polling alone finds changes, every pollInterval).
    public var useInotify: Bool = true
    /// With inotify: a change to a file is read this long after the first change of a burst, together
    /// with every change until then (one read per delay, not one per write(2)). 0 reads on every change.
    /// A line reaches its flushers up to this much later; each delay costs one wakeup, so CPU falls as it
    /// grows (README, Performance: 50 ms is about 2 millicores at 1,000 lines/s, 20 ms about 4).
    public var readDelay: Duration = .milliseconds(50)
    /// A changed file with at least this many bytes waiting is read at once, without the delay.
    public var readAtOnceBytes: Int = 256 << 10
    /// Bytes read per second, all inputs together (Logtail's `max_bytes_per_sec`); nil: unlimited. A burst
    /// of backlog is then spread out instead of taking a core from the application.
    public var maxReadBytesPerSecond: Int?
    /// Serve /healthz, /metrics and /quitquitquit on 127.0.0.1 at this port (nil or 0: no server).
    public var httpPort: Int?
    /// The port is the built-in default, not asked for: when it is taken, run without the endpoint (warned).
    public var httpPortIsDefault = false
    /// Tags added to every group (ALIYUN_LOG_ENV_TAGS), in order.
    public var tags: [(key: String, value: String)]
    /// Where flusher_sls takes its AccessKey (nil: a pipeline with flusher_sls is refused at start).
    public var credentials: CredentialSource.Origin?
    /// `__source__` of SLS LogGroups (nil: the first non-loopback IPv4 address).
    public var sourceAddress: String?
    /// Batch limits and retry timing of flusher_sls.
    public var delivery = SLSDeliveryPolicy()
    /// CA bundle for https endpoints (nil: $SSL_CERT_FILE, else the system bundle).
    public var caFile: String?
    /// Threads that seal SLS batches (encode, compress, Content-MD5); 0 seals on the loop thread. Nil: from
    /// the container's CPU quota and affinity (HostIdentity.workerThreads).
    public var sealingThreads: Int?
    /// Written once the agent has started and made its first scan: the application may begin (the Logtail
    /// sidecar's `/tasksite/cornerstone`). Nil: none is written.
    public var cornerstonePath: String?
    /// When this file appears the application is done: collect and deliver everything, then exit 0 (the
    /// Logtail sidecar's `/tasksite/tombstone`). Nil: only signals and /quitquitquit stop the agent.
    public var tombstonePath: String?

    public init(checkpointDirectory: String, stopDelay: Duration = .seconds(10),
                stopQuietPeriod: Duration = .seconds(1), exitWhenDrained: Duration? = nil,
                pollInterval: Duration = .milliseconds(500), idleCloseAfter: Duration = .seconds(60),
                rotatedGrace: Duration = .seconds(5), maxInFlightBytes: Int = 32 << 20,
                readChunkBytes: Int = 512 << 10, tags: [(key: String, value: String)] = []) {
        self.checkpointDirectory = checkpointDirectory
        self.stopDelay = stopDelay
        self.stopQuietPeriod = stopQuietPeriod
        self.exitWhenDrained = exitWhenDrained
        self.pollInterval = pollInterval
        self.idleCloseAfter = idleCloseAfter
        self.rotatedGrace = rotatedGrace
        self.maxInFlightBytes = maxInFlightBytes
        self.readChunkBytes = readChunkBytes
        self.tags = tags
    }
}

extension Duration {
    /// Whole milliseconds, for libuv timers and loop-time arithmetic.
    var milliseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds) / 1_000_000_000_000_000)
    }
}
