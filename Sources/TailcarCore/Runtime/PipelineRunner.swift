// PipelineRunner.swift
//
// One configured pipeline at run time: turns the lines a tailer reads into records (processors applied),
// seals them into EventGroups, hands the groups to every flusher, and routes acknowledgements back to the
// tailers' offsets. Owns the group pool and the in-flight byte count that pauses reading; does not own
// discovery or file state.

import Glibc

final class PipelineRunner: FlushDelegate {
    let settings: PipelineSettings
    let keys = KeyTable()
    let flushers: [any Flusher]
    var processors: [any EventProcessor] = [] {
        didSet { unretainedProcessors.replace(with: processors) }
    }
    /// `processors` for the per-record loop, read without reference counting (`processors` keeps them alive).
    private var unretainedProcessors = UnretainedProcessors()
    /// The pipeline's topic rule; each file's topic and topic tags are found once, when it is registered.
    var topics: TopicExtractor?
    private var sources: [FileKey: (topic: String, tags: [(key: String, value: String)])] = [:]
    var inputs: [InputRunner] = []
    private let diagnostics: Diagnostics
    private let tags: [(key: String, value: String)]
    private let maxInFlightBytes: Int

    private var pool: [EventGroup] = []
    private var remainingAcks: [ObjectIdentifier: Int] = [:]
    /// Flushers that may still read each group's records; at zero its storage is reused before the acks.
    private var remainingReaders: [ObjectIdentifier: Int] = [:]
    private var tailersByKey: [FileKey: FileTailer] = [:]
    private(set) var inFlightBytes = 0
    /// Multi-line counts of tailers already unregistered (`multilineCounts` adds the live ones).
    private var finishedMultilineCounts = MultilineCounts()
    /// Set when an acknowledgement moved a committed offset or a file was registered; the agent clears it
    /// when it saves the checkpoint file.
    var checkpointDirty = false {
        didSet { if checkpointDirty && !oldValue { onCheckpointDirty() } }
    }
    /// Called when `checkpointDirty` becomes set, so the agent can save soon rather than on its next tick.
    var onCheckpointDirty: () -> Void = {}
    /// Called when reading may resume after a pause.
    var onResume: () -> Void = {}

    init(settings: PipelineSettings, flushers: [any Flusher], diagnostics: Diagnostics,
         tags: [(key: String, value: String)], maxInFlightBytes: Int) {
        self.settings = settings
        self.flushers = flushers
        self.diagnostics = diagnostics
        self.tags = tags
        self.maxInFlightBytes = maxInFlightBytes
        for flusher in flushers { flusher.delegate = self }
    }

    deinit { unretainedProcessors.deallocate() }

    /// Reading waits at the in-flight cap, and while a flusher has enough queued to keep its destination
    /// busy (well below the cap).
    var isPaused: Bool { isAtCap || flushers.contains { $0.isSaturated } }

    private var isAtCap: Bool { bytesHeldForDelivery >= maxInFlightBytes }

    /// Groups in flight, as allocated, plus what flushers hold besides them (compressed bodies queued, in
    /// flight or waiting for a retry). Spare groups are kept only while they fit under the cap with these
    /// (`keepSpare`), and are the first taken, so they never hold reading back.
    var bytesHeldForDelivery: Int { inFlightBytes + flushers.reduce(0) { $0 + $1.heldBytes } }

    /// Bytes the spare groups keep allocated for reuse.
    private var spareBytes = 0
    /// The most bytes held for delivery since the agent last gave freed memory back to the system.
    var inFlightHighWater = 0

    var pendingGroups: Int { remainingAcks.count }

    func register(_ tailer: FileTailer) {
        tailersByKey[tailer.key] = tailer
        guard let topics else { return }
        let found = topics.topic(forPath: tailer.path)
        if !found.matched {
            diagnostics.record(.configWarning(
                "pipeline \(settings.name): the topic path regex does not match \(tailer.path); its records have no topic"))
        }
        sources[tailer.key] = (found.topic, tags + found.tags.map { ($0.key, $0.value) })
    }

    func unregister(_ tailer: FileTailer) {
        // Taken, not copied: a tailer restarted under a new key registers again with the same framer.
        if let taken = tailer.framer?.takeCounts() {
            finishedMultilineCounts.unmatchedLines += taken.unmatchedLines
            finishedMultilineCounts.oversizedRecords += taken.oversizedRecords
        }
        tailersByKey[tailer.key] = nil
        sources[tailer.key] = nil
    }

    /// Lines outside any multi-line record and records cut at the size limit, over this pipeline's life.
    var multilineCounts: MultilineCounts {
        var counts = finishedMultilineCounts
        for tailer in tailersByKey.values {
            if let framer = tailer.framer { counts.add(framer) }
        }
        return counts
    }

    /// Reads once from `tailer` (at most `limit` bytes), frames the window into lines and submits them.
    /// Returns the bytes read.
    func pump(_ tailer: FileTailer, buffer: ReadBuffer, now: UInt64, limit: Int = .max) throws(SystemError) -> Int {
        let got = try tailer.read(into: buffer, limit: limit)
        if got > 0 { tailer.lastGrowth = now }
        let window = buffer.window
        guard !window.isEmpty else { return got }
        let group = takeGroup(for: tailer, bytes: window.count)
        let (seconds, nanoseconds) = wallClock()
        let baseOffset = tailer.readOffset - UInt64(window.count)
        // Single-line mode: the whole window goes into the arena once and each record points into it.
        // Multi-line records are assembled by the framer and copied in as they close.
        let framed = tailer.framer != nil
        let chunk = framed ? ByteRange(start: 0, count: 0) : group.appendBytes(window)
        var records = 0
        let lineLimit = tailer.splitter.maxLineBytes
        let consumed = tailer.splitter.split(window) { range, end in
            if end == .split {
                diagnostics.record(.lineSplit(path: tailer.path, offset: baseOffset + UInt64(range.lowerBound),
                                              limit: lineLimit))
            }
            records += 1
            if framed {
                let line = UnsafeRawBufferPointer(rebasing: window[range])
                // Unretained captures: this closure is specialised into the framer per line, and strong
                // captures cost a retain and release of the runner and the group on every line.
                tailer.framer!.feed(line, at: baseOffset + UInt64(range.lowerBound)) {
                    [unowned(unsafe) self, unowned(unsafe) group] bytes, _ in
                    self.emit(copying: bytes, into: group, seconds, nanoseconds)
                }
            } else {
                emit(ByteRange(start: chunk.start + range.lowerBound, count: range.count), into: group,
                     seconds, nanoseconds)
            }
        }
        // The incomplete tail stays carried by the tailer; its copy in the arena is not needed.
        if !framed { group.arena.removeLast(window.count - consumed) }
        tailer.keep(window: window, consumed: consumed)
        diagnostics.countRead(bytes: got, records: records)
        submit(group, from: tailer)
        return got
    }

    /// Sends the carried incomplete line as a record of its own, and an open multi-line record as it
    /// stands (flush timeout, rotation end, stop).
    func flushRemainder(_ tailer: FileTailer) {
        guard tailer.hasBufferedInput else { return }
        let group = takeGroup(for: tailer, bytes: tailer.carry.count)
        let (seconds, nanoseconds) = wallClock()
        let bytes = tailer.carry.count
        let carryStart = tailer.readOffset - UInt64(bytes)
        tailer.carry.withUnsafeBytes { window in
            _ = tailer.splitter.flushRemainder(window) { range, _ in
                let line = UnsafeRawBufferPointer(rebasing: window[range])
                if tailer.framer != nil {
                    tailer.framer!.feed(line, at: carryStart + UInt64(range.lowerBound)) { record, _ in
                        emit(copying: record, into: group, seconds, nanoseconds)
                    }
                } else {
                    emit(copying: line, into: group, seconds, nanoseconds)
                }
            }
        }
        tailer.framer?.flush { record, _ in emit(copying: record, into: group, seconds, nanoseconds) }
        tailer.clearCarry()
        if bytes > 0 { diagnostics.record(.incompleteLineFlushed(path: tailer.path, bytes: bytes)) }
        submit(group, from: tailer)
    }

    func flushPending() { for flusher in flushers { flusher.flushPending() } }

    func flushAll() { for flusher in flushers { flusher.flushAll() } }

    // MARK: FlushDelegate

    func flusher(_ flusher: any Flusher, acknowledged group: EventGroup) {
        let id = ObjectIdentifier(group)
        guard let remaining = remainingAcks[id] else { return }
        if remaining > 1 {
            remainingAcks[id] = remaining - 1
            if !flusher.reportsFinishedReading { self.flusher(flusher, finishedReading: group) }
            return
        }
        remainingAcks[id] = nil
        remainingReaders[id] = nil
        let wasPaused = isPaused
        inFlightBytes -= group.chargedBytes
        complete(group)
        if wasPaused && !isPaused { onResume() }
    }

    func flusherCanTakeMore(_ flusher: any Flusher) {
        if !isPaused { onResume() }
    }

    func flusher(_ flusher: any Flusher, finishedReading group: EventGroup) {
        let id = ObjectIdentifier(group)
        guard let readers = remainingReaders[id] else { return }
        if readers > 1 {
            remainingReaders[id] = readers - 1
            return
        }
        remainingReaders[id] = nil
        releaseStorage(of: group)
    }

    /// No flusher reads the group any more, but some have not acknowledged it (a batch sealed and waiting
    /// for the destination): its arena and tables become a spare (or are freed), and only its progress
    /// stays in flight, so a backlog's in-flight memory is mostly compressed bodies, not raw input.
    private func releaseStorage(of group: EventGroup) {
        let wasPaused = isPaused
        let storage = EventGroup(keys: keys)
        group.moveStorage(to: storage)
        storage.reset()
        inFlightBytes -= group.chargedBytes
        group.chargedBytes = group.footprint
        inFlightBytes += group.chargedBytes
        keepSpare(storage)
        if wasPaused && !isPaused { onResume() }
    }

    // MARK: Records and groups

    /// A record whose bytes are not in the arena yet (a multi-line record, a flushed tail).
    private func emit(copying raw: UnsafeRawBufferPointer, into group: EventGroup, _ seconds: UInt32,
                      _ nanoseconds: UInt32) {
        emit(group.appendBytes(raw), into: group, seconds, nanoseconds)
    }

    private func emit(_ line: ByteRange, into group: EventGroup, _ seconds: UInt32, _ nanoseconds: UInt32) {
        group.beginRecord(rawIn: line, seconds: seconds, nanoseconds: nanoseconds)
        group.addField(key: .table(keys.content), value: line)
        for slot in unretainedProcessors.slots where slot.process(group) == .drop {
            group.abandonRecord()
            diagnostics.countDropped(records: 1)
            return
        }
        group.commitRecord()
    }

    /// A spare group, else a new one sized for `bytes` of input: a small read (a line or two of a live file)
    /// neither allocates nor, while a batching flusher holds it, keeps the 576 KiB arena and 4,096-record
    /// tables a full read needs. Groups grow when their content does, and spares keep what they grew to.
    private func takeGroup(for tailer: FileTailer, bytes: Int) -> EventGroup {
        if let spare = pool.popLast() {
            spareBytes -= spare.chargedBytes
            return prepare(spare, for: tailer)
        }
        let made = EventGroup(keys: keys, arenaCapacity: min(576 << 10, max(4 << 10, bytes)),
                              recordCapacity: min(4096, max(32, bytes / 64)))
        return prepare(made, for: tailer)
    }

    private func prepare(_ group: EventGroup, for tailer: FileTailer) -> EventGroup {
        group.source.path = tailer.path
        if let source = sources[tailer.key] {
            group.source.topic = source.topic
            group.source.tags = source.tags
        } else {
            group.source.topic = ""
            group.source.tags = tags
        }
        return group
    }

    private func submit(_ group: EventGroup, from tailer: FileTailer) {
        let offset = tailer.handedOffset
        group.progress.append(FileProgress(file: tailer.key, offset: offset))
        tailer.handedDownstream(upTo: offset)
        guard !group.isEmpty, !flushers.isEmpty else {
            complete(group)
            return
        }
        remainingAcks[ObjectIdentifier(group)] = flushers.count
        group.chargedBytes = group.footprint
        if group.releasesStorageEarly {
            remainingReaders[ObjectIdentifier(group)] = flushers.count
        }
        inFlightBytes += group.chargedBytes
        inFlightHighWater = max(inFlightHighWater, bytesHeldForDelivery)
        for flusher in flushers { flusher.submit(group) }
        // At the cap reading stops until acknowledgements come: nothing may wait for a batch to fill.
        // (A saturated flusher sends what it queued, and then asks for more.)
        if isAtCap { flushAll() }
    }

    /// Every flusher has the group: commit its progress and recycle it.
    /// Frees all but `keeping` spare groups (the agent, once a burst drained).
    func releaseSpares(keeping: Int) {
        while pool.count > keeping, let spare = pool.popLast() { spareBytes -= spare.chargedBytes }
    }

    private func complete(_ group: EventGroup) {
        for progress in group.progress {
            if let tailer = tailersByKey[progress.file], tailer.acknowledge(upTo: progress.offset) {
                checkpointDirty = true
            }
        }
        // A group whose storage already became a spare is left to go.
        guard group.hasStorage else { return }
        group.reset()
        keepSpare(group)
    }

    private func keepSpare(_ group: EventGroup) {
        // A spare is kept while it fits under the cap with what is in flight, so a backlog read at the cap
        // reuses groups instead of allocating (and faulting in) a new one per read; after the burst the
        // agent keeps two (`releaseSpares`).
        if bytesHeldForDelivery + spareBytes + group.footprint <= maxInFlightBytes {
            group.chargedBytes = group.footprint
            spareBytes += group.chargedBytes
            pool.append(group)
        }
    }
}

/// What multi-line framing set aside, summed over a pipeline's files (metrics).
struct MultilineCounts {
    var unmatchedLines = 0
    var oversizedRecords = 0

    mutating func add(_ framer: MultilineFramer) {
        unmatchedLines += framer.unmatchedLines
        oversizedRecords += framer.oversizedRecords
    }
}

/// Processors in plain memory, each as an unretained reference and its type: the per-record loop then
/// retains neither an array nor a processor (two reference-count pairs per processor per record otherwise).
private struct UnretainedProcessors {
    struct Slot {
        let object: Unmanaged<AnyObject>
        let type: any EventProcessor.Type

        @inline(__always)
        func process(_ group: EventGroup) -> ProcessOutcome { type.process(unretained: object, group) }
    }

    private(set) var slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: 0)

    /// The caller keeps `processors` alive as long as the slots are used.
    mutating func replace(with processors: [any EventProcessor]) {
        slots.deallocate()
        slots = .allocate(capacity: processors.count)
        _ = slots.initialize(from: processors.map {
            Slot(object: Unmanaged.passUnretained($0 as AnyObject), type: type(of: $0))
        })
    }

    func deallocate() { slots.deallocate() }
}

/// The wall-clock time of a read, as (seconds, nanoseconds) since the epoch.
func wallClock() -> (UInt32, UInt32) {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return (UInt32(truncatingIfNeeded: now.tv_sec), UInt32(truncatingIfNeeded: now.tv_nsec))
}
