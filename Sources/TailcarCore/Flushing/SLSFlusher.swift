// SLSFlusher.swift
//
// flusher_sls: turns EventGroups into SLS PutLogs batches. A group is cut into slices so that no batch
// passes the policy's log or byte limit; a batch is sealed (encoded straight from the group arenas, then
// compressed) when full, when its flush interval passed, or at stop. Once every slice of a group is
// sealed the pipeline is told the group is no longer read (its memory is reused while the bodies wait
// for SLS). A group is acknowledged to the pipeline once every slice of it was accepted by SLS (or
// rejected for good and counted), so file offsets move only over delivered bytes. Owns batching, slice bookkeeping and the bytes its bodies hold;
// sealing is BatchSealer's (worker threads or inline), sending, retries and their accounting are in
// SLSFlusher+Delivery.swift.
//
//   submit(group) ─▶ open batch per BatchKey ─full/interval/stop─▶ ready queue (in order) + sealer
//   sealer: encode + compress + MD5 ─▶ batch sealed (all slices of a group sealed: finished reading)
//   ─▶ front of the queue sealed? sign + send
//   (≤ maxConcurrentRequests) ─200─▶ slices done ─all slices─▶ acknowledged

import Glibc

public final class SLSFlusher: Flusher {
    public let name: String
    public unowned var delegate: (any FlushDelegate)?

    let settings: SLSFlusherSettings
    let policy: SLSDeliveryPolicy
    let endpoint: HTTPEndpoint
    /// `{project}.{endpoint}`: the Host header, and the TLS server name for a named endpoint.
    let projectHost: String
    let client: HTTPClient
    let credentials: CredentialSource
    let diagnostics: Diagnostics
    let clock: () -> UInt64
    let retryTimer: LoopTimer
    /// `__source__` of every LogGroup: the pod IP, else the host's.
    private let sourceAddress: String
    /// Sizes records as the sealer encodes them (with Log.Time_ns, so SLS keeps the time exactly).
    private let sizer = LogGroupEncoder(initialCapacity: 0, includeNanoseconds: true)
    /// iLogtail's TopicKey: a record's value of this field is its LogGroup's topic.
    private let topicKey: [UInt8]?
    let sealer: BatchSealer
    let codec: SealJob.Codec
    /// Reused for the request line and headers of every send.
    var headWriter = HTTPRequestWriter(initialCapacity: 2048)
    /// Bytes allocated for sealed bodies not yet delivered: queued, in flight or waiting for a retry.
    var bodyBytesHeld = 0

    private var open: [BatchKey: OpenBatch] = [:]
    var ready = BatchQueue()
    var inFlight = 0
    /// Slices of each group not yet delivered (open, sealed or in flight).
    var slicesLeft = SliceLedger()
    /// Slices of each group not yet sealed (open, or waiting for a sealer), plus one while it is being cut.
    private var slicesUnsealed = SliceLedger()
    /// Decodes a sent body to split it (PostBodyTooLarge).
    lazy var decompressor = Decompressor()
    var consecutiveFailures = 0
    var backoffUntil: UInt64 = 0
    var isClosed = false
    /// The credential problem last reported, so a bad file is logged once per change, not per attempt.
    var lastCredentialProblem: String?
    var random = SystemRandomNumberGenerator()

    public var pendingGroups: Int { slicesLeft.pendingGroups }

    /// Bytes allocated for compressed bodies queued, in flight or waiting for a retry.
    public var heldBytes: Int { bodyBytesHeld }

    public var reportsFinishedReading: Bool { true }

    /// Batches queued beyond which reading waits: enough for every request slot twice over and for each
    /// sealing thread to work ahead, so the destination never waits on reading; past it, a slow or failing
    /// destination would only fill memory with bodies the files still hold.
    var readyLimit: Int { 2 * policy.maxConcurrentRequests + 2 * sealer.threads }

    public var isSaturated: Bool { ready.count >= readyLimit }

    init(settings: SLSFlusherSettings, endpoint: HTTPEndpoint, policy: SLSDeliveryPolicy, client: HTTPClient,
         credentials: CredentialSource, sourceAddress: String, sealer: BatchSealer, loop: EventLoop,
         diagnostics: Diagnostics, clock: @escaping () -> UInt64) throws(LoopError) {
        self.settings = settings
        self.endpoint = endpoint
        self.policy = policy
        self.client = client
        self.credentials = credentials
        self.sourceAddress = sourceAddress
        self.diagnostics = diagnostics
        self.clock = clock
        projectHost = "\(settings.project).\(endpoint.authority)"
        name = "flusher_sls \(settings.project)/\(settings.logstore)"
        self.sealer = sealer
        codec = SealJob.Codec(algorithm: BodyCompression(settings.compression), zstdLevel: settings.zstdLevel,
                              lz4Acceleration: settings.lz4Acceleration)
        topicKey = settings.topicKey.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        retryTimer = try LoopTimer(loop: loop)
        retryTimer.onFire = { [unowned self] in self.sendReady() }
    }

    public func submit(_ group: EventGroup) {
        guard !group.isEmpty else {
            delegate?.flusher(self, acknowledged: group)
            return
        }
        // Held while the group is cut, so a batch sealed inline meanwhile cannot finish it early. A small
        // group is not tracked: the pipeline keeps it whole until acknowledged.
        let tracksReading = group.releasesStorageEarly
        if tracksReading { slicesUnsealed.begin(group, slices: 1) }
        var slices = 0
        if let topicKey {
            // Runs of records with the same TopicKey value share a topic, and so a LogGroup.
            var start = 0
            var current = topicValue(of: 0, in: group, key: topicKey)
            for index in 1..<group.records.count {
                let value = topicValue(of: index, in: group, key: topicKey)
                if !sameBytes(value, current, in: group) {
                    slices += add(group, records: start..<index, topic: current)
                    start = index
                    current = value
                }
            }
            slices += add(group, records: start..<group.records.count, topic: current)
        } else {
            slices += add(group, records: 0..<group.records.count, topic: nil)
        }
        slicesLeft.begin(group, slices: slices)
        if tracksReading, slicesUnsealed.finish(group) { delegate?.flusher(self, finishedReading: group) }
        sendReady()
    }

    /// Adds `records` of `group` to the open batch of their LogGroup, sealing it whenever it is full.
    /// `topic`, when given, replaces the group's topic. Returns the number of slices made.
    private func add(_ group: EventGroup, records: Range<Int>, topic: ByteRange?) -> Int {
        var source = group.source
        if let topic { source.topic = group.withBytes(topic) { String(decoding: $0, as: UTF8.self) } }
        let key = BatchKey(source)
        var batch = open[key] ?? OpenBatch(meta: LogGroupMeta(group: source, source: sourceAddress), openedAt: clock())
        var sliceStart = records.lowerBound
        var slices = 0
        for index in records {
            let size = sizer.encodedSize(of: group.records[index], in: group)
            if batch.logs > 0, batch.logs + 1 > policy.maxLogs || batch.bytes + size > policy.maxBytes {
                if index > sliceStart {
                    batch.slices.append(RecordSlice(group: group, records: sliceStart..<index))
                    slicesUnsealed.add(1, for: group)
                    slices += 1
                }
                seal(batch)
                batch = OpenBatch(meta: batch.meta, openedAt: clock())
                sliceStart = index
            }
            batch.logs += 1
            batch.bytes += size
        }
        batch.slices.append(RecordSlice(group: group, records: sliceStart..<records.upperBound))
        slicesUnsealed.add(1, for: group)
        slices += 1
        if batch.logs >= policy.maxLogs || batch.bytes >= policy.maxBytes {
            seal(batch)
            open[key] = nil
        } else {
            open[key] = batch
        }
        return slices
    }

    /// The value of the record's field named `key` (the first one), nil when it has none.
    private func topicValue(of index: Int, in group: EventGroup, key: [UInt8]) -> ByteRange? {
        for fieldIndex in group.records[index].fields {
            let field = group.fields[fieldIndex]
            if group.withKeyBytes(field.key, { $0.elementsEqual(key) }) { return field.value }
        }
        return nil
    }

    private func sameBytes(_ a: ByteRange?, _ b: ByteRange?, in group: EventGroup) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        guard a.count == b.count else { return false }
        return group.withBytes(a) { left in group.withBytes(b) { right in left.elementsEqual(right) } }
    }

    /// Seals batches whose flush interval passed and sends what may be sent (the agent's tick).
    public func flushPending() {
        let now = clock()
        for (key, batch) in open where now &- batch.openedAt >= policy.flushIntervalMilliseconds {
            seal(batch)
            open[key] = nil
        }
        sendReady()
    }

    /// Stop, or the pipeline reached its in-flight cap: seals every open batch and sends what the
    /// back-off allows (a paused pipeline's open batches would otherwise wait out their interval).
    public func flushAll() {
        for batch in open.values { seal(batch) }
        open = [:]
        sendReady()
    }

    public func close() {
        isClosed = true
        retryTimer.close()
    }

    // MARK: Sealing

    /// Queues `batch` in order and hands it to the sealer.
    private func seal(_ batch: OpenBatch) {
        guard batch.logs > 0 else { return }
        let sealed = SealedBatch(slices: batch.slices, meta: batch.meta, logs: batch.logs)
        enqueue(sealed, atFront: false)
        startSealing(sealed, from: .records(batch.slices, batch.meta, logBytes: batch.bytes))
    }

    /// Seals `batch` (already queued); it may be sent once done.
    func startSealing(_ batch: SealedBatch, from input: SealJob.Input) {
        let job = SealJob(input, codec: codec)
        job.onSealed = { [weak self] job in self?.sealed(batch, job) }
        sealer.seal(job)
    }

    private func sealed(_ batch: SealedBatch, _ job: SealJob) {
        guard let body = job.body, !isClosed else { return }
        if case .records(let slices, _, _) = job.input {
            for group in slicesUnsealed.finish(slices) { delegate?.flusher(self, finishedReading: group) }
        }
        batch.body = body
        batch.heldBytes = body.block.allocatedBytes
        bodyBytesHeld += batch.heldBytes
        if let failure = body.compressionFailure { diagnostics.record(.flushFailed(flusher: name, reason: failure)) }
        diagnostics.countSealed(cpuNanoseconds: body.cpuNanoseconds)
        sendReady()
    }

    /// The batch left for good (delivered, rejected or split): its body's bytes are no longer held.
    func release(_ batch: SealedBatch) {
        bodyBytesHeld -= batch.heldBytes
        batch.heldBytes = 0
        batch.body = nil
    }

    func enqueue(_ batch: SealedBatch, atFront: Bool) {
        if atFront { ready.pushFront(batch) } else { ready.pushBack(batch) }
    }

    /// A slice is done (delivered, or rejected for good): the group is acknowledged with its last slice.
    func finish(_ slices: [RecordSlice]) {
        for group in slicesLeft.finish(slices) { delegate?.flusher(self, acknowledged: group) }
    }

    /// One slice of `group` became `extra + 1` (a batch split in two).
    func addSlices(_ extra: Int, for group: EventGroup) { slicesLeft.add(extra, for: group) }
}
