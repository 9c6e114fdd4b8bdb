// OutputSink.swift
//
// Where records go: the file (opened O_RDWR for copying, O_APPEND so writes after a copytruncate land at offset 0),
// stdout and stderr, each chunk written whole with write(2), and rotation by rename or by
// copytruncate at a record boundary. Owns file descriptors and rotated names (FILE.1 ... FILE.keep);
// does not own formatting or pacing.

import Glibc

struct OutputSink: ~Copyable {
    private let path: String?
    private var descriptor: Int32 = -1
    private let toStdout: Bool
    private let toStderr: Bool
    private let syncEachWrite: Bool
    private let rotation: RotationMode
    private let rotateBytes: UInt64
    private let rotateRecords: UInt64
    private let keep: Int
    /// Bytes and records written to the current FILE since it was opened or rotated.
    private(set) var bytesInFile: UInt64 = 0
    private(set) var recordsInFile: UInt64 = 0
    private(set) var totalBytes: UInt64 = 0
    private(set) var rotations = 0

    init(_ options: GeneratorOptions) throws(GeneratorError) {
        path = options.path
        toStdout = options.toStdout
        toStderr = options.toStderr
        syncEachWrite = options.fsync
        rotation = options.rotation
        rotateBytes = options.rotateBytes
        rotateRecords = options.rotateRecords
        keep = options.rotateKeep
        if let path {
            descriptor = try Self.open(path, truncate: !options.append)
            var status = stat()
            if fstat(descriptor, &status) == 0 { bytesInFile = UInt64(status.st_size) }
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// True when the next record, `pending` bytes of which are already buffered, must go to a fresh file.
    @inline(__always)
    func rotationDue(pendingBytes: Int, pendingRecords: UInt64) -> Bool {
        guard rotation != .none else { return false }
        if rotateBytes > 0, bytesInFile + UInt64(pendingBytes) >= rotateBytes { return true }
        return rotateRecords > 0 && recordsInFile + pendingRecords >= rotateRecords
    }

    /// Writes one chunk of whole records to every destination.
    mutating func write(_ chunk: UnsafeRawBufferPointer, records: UInt64) throws(GeneratorError) {
        guard chunk.count > 0 else { return }
        if let path {
            try Self.writeAll(descriptor, chunk, label: path)
            if syncEachWrite { _ = try systemCall("fsync", path) { fsync(descriptor) } }
        }
        if toStdout { try Self.writeAll(STDOUT_FILENO, chunk, label: "<stdout>") }
        if toStderr { try Self.writeAll(STDERR_FILENO, chunk, label: "<stderr>") }
        bytesInFile += UInt64(chunk.count)
        recordsInFile += records
        totalBytes += UInt64(chunk.count)
    }

    /// Rotates FILE; the caller has written every buffered record first.
    mutating func rotate() throws(GeneratorError) {
        guard let path else { return }
        try shiftRotated(path)
        switch rotation {
        case .none:
            return
        case .rename:
            _ = try systemCall("rename", path) { rename(path, path + ".1") }
            close(descriptor)
            descriptor = -1
            descriptor = try Self.open(path, truncate: true)
        case .copytruncate:
            try Self.copy(from: descriptor, sourcePath: path, to: path + ".1")
            _ = try systemCall("ftruncate", path) { ftruncate(descriptor, 0) }
        }
        bytesInFile = 0
        recordsInFile = 0
        rotations += 1
    }

    /// FILE.(keep-1) -> FILE.keep, ..., FILE.1 -> FILE.2, skipping names that do not exist.
    private func shiftRotated(_ path: String) throws(GeneratorError) {
        guard keep >= 2 else { return }
        for index in stride(from: keep - 1, through: 1, by: -1) {
            let from = "\(path).\(index)"
            if rename(from, "\(path).\(index + 1)") != 0, errno != ENOENT {
                throw .system(call: "rename", path: from, errno: errno)
            }
        }
    }

    private static func open(_ path: String, truncate: Bool) throws(GeneratorError) -> Int32 {
        let flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0)
        return try systemCall("open", path) { Glibc.open(path, flags, 0o644) }
    }

    private static func writeAll(_ descriptor: Int32, _ chunk: UnsafeRawBufferPointer, label: String)
        throws(GeneratorError)
    {
        var done = 0
        while done < chunk.count {
            let written = try systemCall("write", label) {
                Glibc.write(descriptor, chunk.baseAddress! + done, chunk.count - done)
            }
            done += written
        }
    }

    /// Copies the whole of `source` into a fresh `target` with pread/write in 1 MiB steps
    /// (copy_file_range(2) is not visible through the Glibc module).
    private static func copy(from source: Int32, sourcePath: String, to target: String) throws(GeneratorError) {
        let output = try open(target, truncate: true)
        defer { close(output) }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { scratch.deallocate() }
        var offset = 0
        while true {
            let count = try systemCall("pread", sourcePath) { pread(source, scratch.baseAddress, scratch.count, offset) }
            if count == 0 { return }
            try writeAll(output, UnsafeRawBufferPointer(rebasing: scratch[..<count]), label: target)
            offset += count
        }
    }
}
