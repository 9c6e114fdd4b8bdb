// CheckpointStore.swift
//
// The checkpoint file: a versioned text file of acknowledged offsets, one file identity per line,
// replaced atomically (temporary file, fsync, rename, fsync of the directory), so a crash leaves either
// the old or the new file, never a torn one. Owns the format; what goes in it is CheckpointKeeper's call.
//
//   tailcar-checkpoints 1
//   <pipeline> TAB <device> TAB <inode> TAB <fingerprint length> TAB <fingerprint hash, hex> TAB
//   <offset> TAB <updated, epoch seconds> TAB <path>
//
// Pipeline names and paths are percent-escaped (%, TAB, LF, CR and bytes below 0x20), so any bytes survive.

import Glibc

public struct CheckpointEntry: Sendable, Equatable {
    public var pipeline: String
    public var identity: FileIdentity
    public var fingerprint: Fingerprint
    /// Bytes acknowledged by every flusher.
    public var offset: UInt64
    /// The last known path: a label only; identity decides.
    public var path: String
    public var updatedSeconds: Int64

    public init(pipeline: String, identity: FileIdentity, fingerprint: Fingerprint, offset: UInt64,
                path: String, updatedSeconds: Int64) {
        self.pipeline = pipeline
        self.identity = identity
        self.fingerprint = fingerprint
        self.offset = offset
        self.path = path
        self.updatedSeconds = updatedSeconds
    }
}

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case io(SystemError)
    case corrupt(path: String, line: Int, what: String)
    case unsupportedVersion(path: String, found: String)

    public var description: String {
        switch self {
        case .io(let error): return error.description
        case .corrupt(let path, let line, let what): return "\(path):\(line): corrupt checkpoint: \(what)"
        case .unsupportedVersion(let path, let found):
            return "\(path): checkpoint version \"\(found)\" is not one this tailcar reads (it reads 1)"
        }
    }
}

public final class CheckpointStore {
    static let header = "tailcar-checkpoints 1"
    public let directory: String
    public var filePath: String { directory + "/checkpoints.v1" }
    private var temporaryPath: String { filePath + ".tmp" }

    /// Creates the directory (and its parents) if missing.
    public init(directory: String) throws(CheckpointError) {
        self.directory = directory
        do {
            try makeDirectories(directory)
        } catch { throw .io(error) }
    }

    /// The saved entries; none when no file exists yet. A temporary file a crash left behind is ignored.
    public func load() throws(CheckpointError) -> [CheckpointEntry] {
        let text: [UInt8]
        do {
            guard let bytes = try readWholeFile(filePath) else { return [] }
            text = bytes
        } catch { throw .io(error) }
        var lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() } else if !lines.isEmpty {
            throw .corrupt(path: filePath, line: lines.count, what: "the last line has no newline (truncated file)")
        }
        guard let first = lines.first else { throw .corrupt(path: filePath, line: 1, what: "empty file") }
        let header = String(decoding: first, as: UTF8.self)
        guard header.hasPrefix("tailcar-checkpoints ") else {
            throw .corrupt(path: filePath, line: 1, what: "missing the \"tailcar-checkpoints\" header")
        }
        guard header == Self.header else {
            throw .unsupportedVersion(path: filePath, found: String(header.dropFirst("tailcar-checkpoints ".count)))
        }
        var entries: [CheckpointEntry] = []
        for (index, line) in lines.enumerated().dropFirst() {
            entries.append(try parse(Array(line), lineNumber: index + 1))
        }
        return entries
    }

    /// Replaces the file with `entries`: temporary file, fsync, rename, fsync of the directory. A directory
    /// deleted while the agent runs is made again.
    public func save(_ entries: [CheckpointEntry]) throws(CheckpointError) {
        var text = Array((Self.header + "\n").utf8)
        for entry in entries { render(entry, into: &text) }
        do {
            let fd = try openTemporaryFile()
            defer { close(fd) }
            try writeAll(fd, text, path: temporaryPath)
            _ = try systemCall("fsync", path: temporaryPath) { fsync(fd) }
            _ = try systemCall("rename", path: filePath) { rename(temporaryPath, filePath) }
            let dir = try systemCall("open", path: directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            defer { close(dir) }
            _ = try systemCall("fsync", path: directory) { fsync(dir) }
        } catch { throw .io(error) }
    }

    private func openTemporaryFile() throws(SystemError) -> Int32 {
        let create = { open(self.temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        do {
            return try systemCall("open", path: temporaryPath, create)
        } catch where error.code == ENOENT {
            try makeDirectories(directory)
            return try systemCall("open", path: temporaryPath, create)
        }
    }

    private func render(_ entry: CheckpointEntry, into text: inout [UInt8]) {
        escape(entry.pipeline, into: &text)
        let numbers = "\t\(entry.identity.device)\t\(entry.identity.inode)\t\(entry.fingerprint.length)\t"
            + String(entry.fingerprint.hash, radix: 16) + "\t\(entry.offset)\t\(entry.updatedSeconds)\t"
        text.append(contentsOf: numbers.utf8)
        escape(entry.path, into: &text)
        text.append(0x0A)
    }

    private func parse(_ line: [UInt8], lineNumber: Int) throws(CheckpointError) -> CheckpointEntry {
        let parts = line.split(separator: 0x09, omittingEmptySubsequences: false).map { Array($0) }
        guard parts.count == 8 else {
            throw .corrupt(path: filePath, line: lineNumber, what: "expected 8 tab-separated fields, found \(parts.count)")
        }
        func number(_ index: Int, _ name: String, radix: Int = 10) throws(CheckpointError) -> UInt64 {
            guard let value = UInt64(String(decoding: parts[index], as: UTF8.self), radix: radix) else {
                throw .corrupt(path: filePath, line: lineNumber, what: "\(name) is not a number")
            }
            return value
        }
        guard let pipeline = unescape(parts[0]), let path = unescape(parts[7]) else {
            throw .corrupt(path: filePath, line: lineNumber, what: "bad % escape")
        }
        let length = try number(3, "fingerprint length")
        guard length <= UInt64(Fingerprint.maxLength) else {
            throw .corrupt(path: filePath, line: lineNumber, what: "fingerprint length \(length) exceeds \(Fingerprint.maxLength)")
        }
        return CheckpointEntry(
            pipeline: pipeline,
            identity: FileIdentity(device: try number(1, "device"), inode: try number(2, "inode")),
            fingerprint: Fingerprint(length: Int(length), hash: try number(4, "fingerprint hash", radix: 16)),
            offset: try number(5, "offset"), path: path,
            updatedSeconds: Int64(truncatingIfNeeded: try number(6, "update time")))
    }
}

// MARK: - Escaping and file helpers

private let hexDigits = Array("0123456789ABCDEF".utf8)

private func escape(_ text: String, into out: inout [UInt8]) {
    for byte in text.utf8 {
        if byte < 0x20 || byte == 0x25 || byte == 0x7F {
            out.append(0x25)
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        } else {
            out.append(byte)
        }
    }
}

private func unescape(_ bytes: [UInt8]) -> String? {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
        if bytes[index] == 0x25 {
            guard index + 2 < bytes.count,
                  let value = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16)
            else { return nil }
            out.append(value)
            index += 3
        } else {
            out.append(bytes[index])
            index += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// The whole file, or nil when it does not exist.
func readWholeFile(_ path: String) throws(SystemError) -> [UInt8]? {
    let fd: Int32
    do {
        fd = try systemCall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
    } catch where error.code == ENOENT {
        return nil
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let got = try systemCall("read", path: path) {
            chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        }
        if got == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<got])
    }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemError) {
    var done = 0
    while done < bytes.count {
        let written = try systemCall("write", path: path) {
            bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        }
        done += written
    }
}

/// mkdir -p.
func makeDirectories(_ path: String) throws(SystemError) {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, 0o755) != 0 {
            let code = currentErrno
            guard code == EEXIST else { throw SystemError(operation: "mkdir", path: current, code: code) }
        }
    }
}
