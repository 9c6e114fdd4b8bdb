// TailHarness.swift
//
// Drives one input and one pipeline by hand, without a loop: the test owns the clock and decides when
// discovery, rotation checks, reads and checkpoints happen, so model tests are deterministic and never
// sleep. A recording flusher keeps every delivered line.

import Glibc
@testable import TailcarCore

/// Keeps the content of every delivered record and acknowledges it at once, or, with `acknowledgeLater`,
/// at the harness's next tick, so a crash can come while batches are in flight (delivered, not yet
/// acknowledged: their acknowledgements are lost with the process).
final class RecordingFlusher: Flusher {
    let name = "recording"
    weak var delegate: (any FlushDelegate)?
    var pendingGroups: Int { inFlight.count }
    var lines: [String] = []
    var acknowledgeLater = false
    private var inFlight: [EventGroup] = []

    func submit(_ group: EventGroup) {
        for record in group.records {
            for field in group.fields[record.fields] {
                lines.append(group.withBytes(field.value) { String(decoding: $0, as: UTF8.self) })
            }
        }
        if acknowledgeLater { inFlight.append(group) } else { delegate?.flusher(self, acknowledged: group) }
    }

    /// Acknowledges every batch in flight.
    func acknowledgeInFlight() {
        let groups = inFlight
        inFlight.removeAll()
        for group in groups { delegate?.flusher(self, acknowledged: group) }
    }

    /// A crash: the batches in flight were delivered, their acknowledgements never arrive.
    func loseInFlight() { inFlight.removeAll() }

    func flushPending() {}
    func close() {}
}

/// One agent's worth of tail state over a directory, stepped by the test.
final class TailHarness {
    let flusher: RecordingFlusher
    let pipeline: PipelineRunner
    let input: InputRunner
    let context: AgentContext
    var clock: UInt64
    private let buffer: ReadBuffer

    init(directory: String, checkpoints: String, flusher: RecordingFlusher, clock: UInt64 = 1_000,
         tailingAll: Bool = true, multiline: MultilineRules? = nil, readChunk: Int = 64 << 10) throws {
        self.flusher = flusher
        self.clock = clock
        let settings = FileInputSettings(filePaths: [directory + "/*.log"], tailingAllMatchedFiles: tailingAll,
                                         maxLineBytes: 4096)
        let pipelineSettings = PipelineSettings(name: "model", origin: "test", inputs: [settings], flushers: [])
        let diagnostics = Diagnostics(quiet: true)
        let options = AgentOptions(checkpointDirectory: checkpoints)
        pipeline = PipelineRunner(settings: pipelineSettings, flushers: [flusher], diagnostics: diagnostics,
                                  tags: [], maxInFlightBytes: 1 << 30)
        input = try InputRunner(settings: settings, pipeline: pipeline, multiline: multiline)
        pipeline.inputs = [input]
        let keeper = CheckpointKeeper(store: try CheckpointStore(directory: checkpoints), diagnostics: diagnostics)
        var now = clock
        context = AgentContext(options: options, diagnostics: diagnostics, checkpoints: keeper,
                               clock: { now }, maxLineBytes: 4096)
        buffer = ReadBuffer(readChunk: readChunk, maxCarry: 4096)
        _ = input.discover(context)
        input.recoverRotated(context)
        context.isInitialScan = false
        // The context reads `now` through the closure above; keep it in step with `clock`.
        advanceClock = { milliseconds in now += milliseconds }
    }

    private var advanceClock: (UInt64) -> Void = { _ in }

    /// One poll tick: rotation checks, discovery, then reads until every file is at its end.
    func tick(milliseconds: UInt64 = 100, stopping: Bool = false) throws {
        clock += milliseconds
        advanceClock(milliseconds)
        flusher.acknowledgeInFlight()
        input.checkTailers(context, stopping: stopping)
        _ = input.discover(context)
        var progressed = true
        while progressed {
            progressed = false
            for tailer in input.tailers where tailer.descriptor != nil {
                input.verifyBeforeRead(tailer, context)
                if try pipeline.pump(tailer, buffer: buffer, now: context.now) > 0 { progressed = true }
            }
        }
    }

    /// Ticks past every grace period so rotated and deleted files finish.
    func settle() throws {
        for _ in 0..<3 { try tick(milliseconds: 6_000) }
    }

    func saveCheckpoints() {
        let live = input.tailers.map { $0.checkpointEntry(pipeline: "model") }
        context.checkpoints.save(live: live, now: context.now)
    }

    /// A stop as SIGTERM ends it: every file drained, incomplete lines sent, checkpoints written.
    func stop() throws {
        try tick(stopping: true)
        for tailer in input.tailers { pipeline.flushRemainder(tailer) }
        try tick(stopping: true)
        flusher.acknowledgeInFlight()
        saveCheckpoints()
        close()
    }

    /// SIGKILL: batches in flight lose their acknowledgements, descriptors close, nothing is saved.
    func crash() {
        flusher.loseInFlight()
        close()
    }

    func close() {
        for tailer in input.tailers { tailer.closeDescriptor(then: .finished(deleted: false)) }
    }
}
