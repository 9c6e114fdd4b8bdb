// SampleReplayer.swift
//
// Writes the user's sample lines, over and over, into the file the child reads, at a set rate: every tick
// the lines due since the start go out in one write(2) per contiguous run, as an application writing in
// batches does. The file is rotated by rename (the child follows it) once it holds a second of data and at
// least 16 MiB, and the older copy removed at the next rotation, so a long fast step does not fill the disk.
// Owns the file, the sample's bytes and the count of what was written.

import Glibc

public struct SampleLines: Sendable {
    /// The sample repeated whole until it is at least 1 MiB, so most ticks need one write.
    let buffer: [UInt8]
    /// Start offset of each line in `buffer`, plus the end.
    let starts: [Int]
    public let lineCount: Int
    public let averageLineBytes: Double

    /// The lines of a sample file (a last line without its newline gets one); nil when it has none.
    public init?(_ bytes: [UInt8]) {
        var sample = bytes
        if sample.isEmpty { return nil }
        if sample.last != 0x0A { sample.append(0x0A) }
        let lines = sample.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        var buffer = sample
        while buffer.count < 1 << 20 { buffer += sample }
        var starts = [0]
        for (index, byte) in buffer.enumerated() where byte == 0x0A { starts.append(index + 1) }
        self.buffer = buffer
        self.starts = starts
        lineCount = lines
        averageLineBytes = Double(sample.count) / Double(lines)
    }
}

public final class SampleReplayer {
    public let path: String
    private let sample: SampleLines
    private var descriptor: Int32
    private var cursor = 0
    private var fileBytes = 0
    public private(set) var linesWritten = 0
    public private(set) var bytesWritten = 0
    public private(set) var rotations = 0

    public init(path: String, sample: SampleLines) throws(SystemError) {
        self.path = path
        self.sample = sample
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError(operation: "open", path: path, code: currentErrno) }
    }

    deinit { close(descriptor) }

    /// Writes `count` more lines; rotates first when the file holds `rotateBytes` or more.
    public func write(lines count: Int, rotateBytes: Int) throws(SystemError) {
        if fileBytes >= rotateBytes { try rotate() }
        var remaining = count
        let total = sample.starts.count - 1
        while remaining > 0 {
            let run = min(remaining, total - cursor)
            let from = sample.starts[cursor]
            let to = sample.starts[cursor + run]
            var offset = from
            while offset < to {
                let written = sample.buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, to - offset) }
                if written < 0 {
                    if currentErrno == EINTR { continue }
                    throw SystemError(operation: "write", path: path, code: currentErrno)
                }
                offset += written
            }
            bytesWritten += to - from
            fileBytes += to - from
            linesWritten += run
            remaining -= run
            cursor = (cursor + run) % total
        }
    }

    private func rotate() throws(SystemError) {
        let older = path + ".1"
        unlink(older)
        guard rename(path, older) == 0 else { throw SystemError(operation: "rename", path: path, code: currentErrno) }
        close(descriptor)
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError(operation: "open", path: path, code: currentErrno) }
        fileBytes = 0
        rotations += 1
    }
}
