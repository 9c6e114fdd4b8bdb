// JSONLinesFlusher.swift
//
// flusher_stdout and flusher_file: one JSON object per record (RecordJSONWriter) written to a descriptor.
// A group is acknowledged once write(2) took all its bytes. A failed write (disk full, closed pipe) keeps
// the group, reports the error, and retries on the next `flushPending()`: nothing is acknowledged that was
// not written, so the files stay the buffer.

import Glibc

public final class JSONLinesFlusher: Flusher {
    public enum Destination: Sendable {
        case standardOutput
        case file(path: String)
    }

    public let name: String
    public unowned var delegate: (any FlushDelegate)?
    private let destination: Destination
    private var descriptor: Int32 = -1
    private var encoded = ByteSink(capacity: 1 << 20)
    private var waiting: [EventGroup] = []
    /// Bytes of the first waiting group's encoding already written before a write failed.
    private var resumeAt = 0
    private let report: (AgentEvent) -> Void

    public var pendingGroups: Int { waiting.count }

    public init(destination: Destination, report: @escaping (AgentEvent) -> Void) {
        self.destination = destination
        self.report = report
        switch destination {
        case .standardOutput: name = "flusher_stdout"
        case .file(let path): name = "flusher_file \(path)"
        }
    }

    public func submit(_ group: EventGroup) {
        if !waiting.isEmpty {
            waiting.append(group)
            flushPending()
            return
        }
        if !deliver(group) { waiting.append(group) }
    }

    public func flushPending() {
        while let first = waiting.first {
            guard deliver(first) else { return }
            waiting.removeFirst()
        }
    }

    public func close() {
        if descriptor > 2 { Glibc.close(descriptor) }
        descriptor = -1
    }

    private func deliver(_ group: EventGroup) -> Bool {
        do throws(SystemError) {
            let fd = try openDescriptor()
            encoded.removeAll()
            RecordJSONWriter.append(group, to: &encoded)
            try writeAll(fd, encoded.bytes)
            resumeAt = 0
        } catch {
            report(.flushFailed(flusher: name, reason: error.description))
            return false
        }
        delegate?.flusher(self, acknowledged: group)
        return true
    }

    private func openDescriptor() throws(SystemError) -> Int32 {
        if descriptor >= 0 { return descriptor }
        switch destination {
        case .standardOutput:
            descriptor = 1
        case .file(let path):
            descriptor = try systemCall("open", path: path) {
                open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            }
        }
        return descriptor
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        let label: String = if case .file(let path) = destination { path } else { "stdout" }
        var done = resumeAt
        defer { resumeAt = done }
        while done < bytes.count {
            let written = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if written < 0 {
                let code = currentErrno
                if code == EINTR { continue }
                throw SystemError(operation: "write", path: label, code: code)
            }
            done += written
        }
    }
}
