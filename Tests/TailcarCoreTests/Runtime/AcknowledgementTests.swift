// Tests that offsets commit only as far as every earlier group is acknowledged, whatever order flushers
// acknowledge in, and that a flusher that fails to write holds its groups back.
import Glibc
import Testing
@testable import TailcarCore

/// A flusher that holds groups until the test acknowledges them, in any order.
final class HoldingFlusher: Flusher {
    let name = "holding"
    weak var delegate: (any FlushDelegate)?
    var held: [EventGroup] = []
    var pendingGroups: Int { held.count }

    func submit(_ group: EventGroup) { held.append(group) }
    func flushPending() {}
    func close() {}

    func acknowledge(at index: Int) {
        let group = held.remove(at: index)
        delegate?.flusher(self, acknowledged: group)
    }
}

/// A holding flusher that also says when it has read a group (as flusher_sls does once it sealed it).
final class ReadingFlusher: Flusher {
    let name = "reading"
    weak var delegate: (any FlushDelegate)?
    var held: [EventGroup] = []
    var pendingGroups: Int { held.count }
    var reportsFinishedReading: Bool { true }
    var isSaturated = false
    var flushAllCalls = 0
    func flushAll() { flushAllCalls += 1 }

    func submit(_ group: EventGroup) { held.append(group) }
    func flushPending() {}
    func close() {}

    func finishReading(at index: Int) { delegate?.flusher(self, finishedReading: held[index]) }

    func acknowledge(at index: Int) {
        let group = held.remove(at: index)
        delegate?.flusher(self, acknowledged: group)
    }
}

/// A temporary file with content, removed at the end of the test.
struct TemporaryFile: ~Copyable {
    let directory: String
    let path: String

    init(_ content: String) {
        var template = Array("/tmp/tailcar-test-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        path = directory + "/app.log"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let bytes = Array(content.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    deinit {
        unlink(path)
        rmdir(directory)
    }
}

@Suite("Acknowledgements")
struct AcknowledgementTests {
    private func makeTailer(_ file: borrowing TemporaryFile) throws -> (FileTailer, Int32) {
        let fd = open(file.path, O_RDONLY)
        let status = try FileStatus.of(fd: fd, path: file.path)
        let fingerprint = try Fingerprint.read(fd: fd, path: file.path)
        let tailer = FileTailer(key: FileKey(raw: 1), path: file.path, identity: status.identity,
                                fingerprint: fingerprint, fd: fd, offset: 0, maxLineBytes: 1024, now: 0)
        return (tailer, fd)
    }

    @Test("out-of-order acknowledgements commit only the contiguous prefix")
    func outOfOrder() throws {
        let file = TemporaryFile("")
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        tailer.handedDownstream(upTo: 10)
        tailer.handedDownstream(upTo: 20)
        tailer.handedDownstream(upTo: 30)
        #expect(tailer.acknowledge(upTo: 20) == false)
        #expect(tailer.ackedOffset == 0)
        #expect(tailer.acknowledge(upTo: 10) == true)
        #expect(tailer.ackedOffset == 20)
        #expect(tailer.acknowledge(upTo: 30) == true)
        #expect(tailer.ackedOffset == 30)
        #expect(!tailer.hasUnacknowledged)
    }

    @Test("a pipeline commits a file's offset only after every flusher acknowledged its groups")
    func pipelineWaitsForEveryFlusher() throws {
        let file = TemporaryFile("one\ntwo\nthree\npartial")
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        let first = HoldingFlusher(), second = HoldingFlusher()
        let settings = PipelineSettings(name: "p", origin: "test", inputs: [], flushers: [])
        let pipeline = PipelineRunner(settings: settings, flushers: [first, second],
                                      diagnostics: Diagnostics(quiet: true), tags: [], maxInFlightBytes: 1 << 20)
        pipeline.register(tailer)
        let buffer = ReadBuffer(readChunk: 4096, maxCarry: 1024)
        let got = try pipeline.pump(tailer, buffer: buffer, now: 1)
        #expect(got == 21)
        #expect(tailer.handedOffset == 14)
        #expect(first.held.count == 1 && second.held.count == 1)
        #expect(first.held[0].records.count == 3)

        first.acknowledge(at: 0)
        #expect(tailer.ackedOffset == 0)
        second.acknowledge(at: 0)
        #expect(tailer.ackedOffset == 14)
        #expect(pipeline.checkpointDirty)

        pipeline.flushRemainder(tailer)
        #expect(tailer.handedOffset == 21)
        second.acknowledge(at: 0)
        first.acknowledge(at: 0)
        #expect(tailer.ackedOffset == 21)
        #expect(pipeline.inFlightBytes == 0)
    }

    @Test("a group no flusher reads any more gives its memory back before it is acknowledged")
    func storageReleasedAfterReading() throws {
        // A backlog's read (64 KiB or more: smaller groups stay whole until acknowledged).
        let file = TemporaryFile(String(repeating: "0123456789\n", count: 6000))
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        let reading = ReadingFlusher(), holding = HoldingFlusher()
        let settings = PipelineSettings(name: "p", origin: "test", inputs: [], flushers: [])
        let pipeline = PipelineRunner(settings: settings, flushers: [reading, holding],
                                      diagnostics: Diagnostics(quiet: true), tags: [], maxInFlightBytes: 4 << 20)
        pipeline.register(tailer)
        let buffer = ReadBuffer(readChunk: 128 << 10, maxCarry: 1024)
        _ = try pipeline.pump(tailer, buffer: buffer, now: 1)
        let group = reading.held[0]
        let charged = pipeline.inFlightBytes
        #expect(charged >= EventGroup.storageWorthReleasing && group.records.count == 6000)

        // One flusher finished reading; the other still reads (until it acknowledges).
        reading.finishReading(at: 0)
        #expect(pipeline.inFlightBytes == charged && group.records.count == 6000)
        holding.acknowledge(at: 0)
        #expect(group.records.isEmpty && group.arena.capacity == 0)
        #expect(pipeline.inFlightBytes < 100)
        #expect(tailer.ackedOffset == 0)

        // The acknowledgement still commits the offset, once.
        reading.acknowledge(at: 0)
        #expect(tailer.ackedOffset == 66000 && pipeline.inFlightBytes == 0 && pipeline.pendingGroups == 0)

        // The storage came back as a spare, emptied: the next read reuses it without allocating.
        let appender = open(file.path, O_WRONLY | O_APPEND)
        #expect(write(appender, "four\n", 5) == 5)
        close(appender)
        _ = try pipeline.pump(tailer, buffer: buffer, now: 2)
        #expect(reading.held.count == 1 && reading.held[0] !== group)
        #expect(reading.held[0].arena.capacity >= EventGroup.storageWorthReleasing)
        #expect(reading.held[0].records.count == 1 && reading.held[0].arena == Array("four\n".utf8))
    }

    @Test("a small group (a live tail's read) stays whole until acknowledged")
    func smallGroupsKeepStorage() throws {
        let file = TemporaryFile("one\ntwo\nthree\n")
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        let reading = ReadingFlusher()
        let settings = PipelineSettings(name: "p", origin: "test", inputs: [], flushers: [])
        let pipeline = PipelineRunner(settings: settings, flushers: [reading],
                                      diagnostics: Diagnostics(quiet: true), tags: [], maxInFlightBytes: 1 << 20)
        pipeline.register(tailer)
        _ = try pipeline.pump(tailer, buffer: ReadBuffer(readChunk: 4096, maxCarry: 1024), now: 1)
        let group = reading.held[0]
        reading.finishReading(at: 0)
        #expect(group.records.count == 3 && pipeline.inFlightBytes > 0)
        reading.acknowledge(at: 0)
        #expect(tailer.ackedOffset == 14 && pipeline.inFlightBytes == 0)
    }

    @Test("a paused pipeline resumes when its groups were read, before they are acknowledged")
    func resumesAfterReading() throws {
        let file = TemporaryFile(String(repeating: "0123456789\n", count: 6000))
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        let flusher = ReadingFlusher()
        let settings = PipelineSettings(name: "p", origin: "test", inputs: [], flushers: [])
        let pipeline = PipelineRunner(settings: settings, flushers: [flusher],
                                      diagnostics: Diagnostics(quiet: true), tags: [], maxInFlightBytes: 64 << 10)
        var resumed = false
        pipeline.onResume = { resumed = true }
        pipeline.register(tailer)
        _ = try pipeline.pump(tailer, buffer: ReadBuffer(readChunk: 128 << 10, maxCarry: 1024), now: 1)
        #expect(pipeline.isPaused)
        flusher.finishReading(at: 0)
        #expect(!pipeline.isPaused && resumed && tailer.ackedOffset == 0)
        flusher.acknowledge(at: 0)
        #expect(tailer.ackedOffset == 66000)
    }

    @Test("a saturated flusher pauses reading far below the cap, without sealing partial batches, until it takes more")
    func saturationPauses() throws {
        let file = TemporaryFile("one\ntwo\n")
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        let flusher = ReadingFlusher()
        let settings = PipelineSettings(name: "p", origin: "test", inputs: [], flushers: [])
        let pipeline = PipelineRunner(settings: settings, flushers: [flusher],
                                      diagnostics: Diagnostics(quiet: true), tags: [], maxInFlightBytes: 1 << 20)
        var resumed = 0
        pipeline.onResume = { resumed += 1 }
        pipeline.register(tailer)
        flusher.isSaturated = true
        _ = try pipeline.pump(tailer, buffer: ReadBuffer(readChunk: 4096, maxCarry: 1024), now: 1)
        #expect(pipeline.isPaused && flusher.flushAllCalls == 0)
        flusher.isSaturated = false
        pipeline.flusherCanTakeMore(flusher)
        #expect(!pipeline.isPaused && resumed == 1)
    }

    @Test("reading pauses while in-flight bytes exceed the cap and resumes on acknowledgement")
    func backpressure() throws {
        let file = TemporaryFile(String(repeating: "0123456789\n", count: 100))
        let (tailer, fd) = try makeTailer(file)
        defer { close(fd) }
        let flusher = HoldingFlusher()
        let settings = PipelineSettings(name: "p", origin: "test", inputs: [], flushers: [])
        let pipeline = PipelineRunner(settings: settings, flushers: [flusher],
                                      diagnostics: Diagnostics(quiet: true), tags: [], maxInFlightBytes: 500)
        var resumed = false
        pipeline.onResume = { resumed = true }
        pipeline.register(tailer)
        _ = try pipeline.pump(tailer, buffer: ReadBuffer(readChunk: 4096, maxCarry: 1024), now: 1)
        #expect(pipeline.isPaused)
        flusher.acknowledge(at: 0)
        #expect(!pipeline.isPaused && resumed)
    }
}
