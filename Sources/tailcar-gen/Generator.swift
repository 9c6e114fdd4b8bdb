// Generator.swift
//
// The write loop: asks the formatter for records, keeps them in one large buffer, hands whole
// buffers to the sink, rotates at record boundaries, and paces by the monotonic clock when a rate
// is set (batches of about 10 ms, each flushed so a tailer sees it at once; or, with --write-per-line, one
// write(2) per record at its due time). Owns the stopping rule
// (count or duration, whichever first) and the end-of-run summary; does not own formats or files.

import Glibc

struct GeneratorSummary {
    var records: UInt64
    var bytes: UInt64
    var rotations: Int
    var nanos: UInt64

    var line: String {
        let seconds = Double(nanos) / 1e9
        let megabytesPerSecond = seconds > 0 ? Double(bytes) / 1e6 / seconds : 0
        return "records=\(records) bytes=\(bytes) rotations=\(rotations) seconds=\(seconds) MB/s=\(megabytesPerSecond)"
    }
}

struct Generator: ~Copyable {
    private let options: GeneratorOptions
    private var formatter: RecordFormatter
    private var buffer = RecordBuffer(capacity: 4 << 20)
    private var sink: OutputSink
    private var bufferedRecords: UInt64 = 0
    private var next: UInt64
    private let end: UInt64
    private let started: UInt64
    private let stopAt: UInt64

    init(_ options: GeneratorOptions) throws(GeneratorError) {
        self.options = options
        formatter = RecordFormatter(logType: options.logType, seed: options.seed,
                                    lineBytes: options.lineBytes, delimiter: options.delimiter)
        sink = try OutputSink(options)
        next = options.firstSequence
        end = options.totalCount.map { options.firstSequence &+ $0 } ?? .max
        let now = Clock.monotonicNanos()
        started = now
        stopAt = options.durationNanos.map { now &+ $0 } ?? .max
    }

    mutating func run() throws(GeneratorError) -> GeneratorSummary {
        if options.logsPerSecond == 0 {
            try runUnpaced()
        } else if options.writePerLine {
            try runPacedPerLine(rate: options.logsPerSecond)
        } else {
            try runPaced(rate: options.logsPerSecond)
        }
        try flush()
        return GeneratorSummary(records: next - options.firstSequence, bytes: sink.totalBytes,
                                rotations: sink.rotations, nanos: Clock.monotonicNanos() - started)
    }

    /// As fast as possible: the clock is read once per 1,024 records, and only with --duration.
    private mutating func runUnpaced() throws(GeneratorError) {
        let watchClock = stopAt != .max
        while next < end {
            try writeRecord()
            if watchClock, next & 1023 == 0, Clock.monotonicNanos() >= stopAt { return }
        }
    }

    /// Record i (from 0) is due at start + i / rate; each batch is written then the loop sleeps.
    private mutating func runPaced(rate: UInt64) throws(GeneratorError) {
        let batch = max(1, rate / 100)
        var written: UInt64 = 0
        while next < end {
            let due = started &+ UInt64(Double(written) * 1e9 / Double(rate))
            if due >= stopAt { return }
            Clock.sleep(untilMonotonicNanos: due)
            var inBatch: UInt64 = 0
            while inBatch < batch, next < end {
                try writeRecord()
                inBatch += 1
            }
            written += inBatch
            try flush()
            if Clock.monotonicNanos() >= stopAt { return }
        }
    }

    /// One write(2) per record, as an application logging line by line: every record due by now is
    /// formatted and written alone, then the loop sleeps until the next one is due.
    private mutating func runPacedPerLine(rate: UInt64) throws(GeneratorError) {
        var written: UInt64 = 0
        while next < end {
            let due = started &+ UInt64(Double(written) * 1e9 / Double(rate))
            if due >= stopAt { return }
            if due > Clock.monotonicNanos() { Clock.sleep(untilMonotonicNanos: due) }
            try writeRecord()
            try flush()
            written += 1
        }
    }

    @inline(__always)
    private mutating func writeRecord() throws(GeneratorError) {
        if !buffer.hasRoom(for: formatter.maximumRecordBytes) { try flush() }
        if sink.rotationDue(pendingBytes: buffer.count, pendingRecords: bufferedRecords) {
            try flush()
            try sink.rotate()
        }
        let micros = options.realTime
            ? Clock.realtimeMicros()
            : TimestampRenderer.deterministicStartMicros &+ Int64(truncatingIfNeeded: next &* 1000)
        formatter.write(sequence: next, micros: micros, into: &buffer)
        bufferedRecords += 1
        next += 1
    }

    private mutating func flush() throws(GeneratorError) {
        try sink.write(buffer.bytes, records: bufferedRecords)
        buffer.removeAll()
        bufferedRecords = 0
    }
}
