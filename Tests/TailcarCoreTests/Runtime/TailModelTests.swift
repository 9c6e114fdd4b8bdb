// Seeded model tests of the tail: random writes, rename rotations, copytruncates, deletes, graceful
// restarts and crashes on real files, replayed against an in-memory record of every line written.
// Every line must be delivered, also those a copytruncate took away before they were read (they come
// from the copy); none twice, unless a crash lost the last checkpoint or acknowledgements in flight (then
// only lines written before the crash may repeat). Crashes come between reads and right after rotations,
// truncations and new files; truncations without a copy or with a compressed one come after the tailer
// caught up, and must not make it read an older copy again.

import Glibc
import Testing
@testable import TailcarCore

extension SeededGenerator {
    /// A number in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The writer side: appends numbered lines to files and rotates them like logrotate would.
final class ModelWriter {
    let directory: String
    private(set) var written: [String] = []
    private var descriptors: [String: Int32] = [:]
    private var rotations = 0

    init(directory: String) { self.directory = directory }

    func append(to name: String, count: Int) {
        let path = directory + "/" + name
        let fd = descriptors[name] ?? open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        descriptors[name] = fd
        var bytes: [UInt8] = []
        for _ in 0..<count {
            let line = "\(name) seq=\(written.count) " + String(repeating: "x", count: written.count % 37)
            written.append(line)
            bytes.append(contentsOf: line.utf8)
            bytes.append(0x0A)
        }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// rename(2) to a name no pattern matches; the writer keeps its old descriptor for `lateLines` more
    /// lines, then reopens the original name.
    func renameRotate(_ name: String, lateLines: Int) {
        rotations += 1
        rename(directory + "/" + name, directory + "/" + name + ".\(rotations)")
        append(to: name, count: lateLines)
        if let fd = descriptors.removeValue(forKey: name) { close(fd) }
    }

    /// copytruncate: copy the content aside (under a name no pattern matches), truncate in place.
    func copyTruncate(_ name: String) {
        let path = directory + "/" + name
        let source = open(path, O_RDONLY)
        guard source >= 0 else { return }  // logrotate's missingok
        rotations += 1
        let copy = open(path + ".\(rotations)", O_WRONLY | O_CREAT, 0o644)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(source, $0.baseAddress, 65536) }
            if got <= 0 { break }
            _ = chunk.withUnsafeBytes { write(copy, $0.baseAddress, got) }
        }
        close(source)
        close(copy)
        truncate(path, 0)
    }

    /// Truncates in place without a plain copy (the content is lost to a tailer that had not read it), or
    /// with a `.gz` copy that no tailer can read.
    func truncateInPlace(_ name: String, compressedCopy: Bool) {
        let path = directory + "/" + name
        guard access(path, F_OK) == 0 else { return }
        if compressedCopy {
            rotations += 1
            let copy = open(path + ".\(rotations).gz", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let gzipHeader: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
            _ = gzipHeader.withUnsafeBytes { write(copy, $0.baseAddress, $0.count) }
            close(copy)
        }
        truncate(path, 0)
    }

    func delete(_ name: String) {
        if let fd = descriptors.removeValue(forKey: name) { close(fd) }
        unlink(directory + "/" + name)
    }

    func closeAll() {
        for fd in descriptors.values { close(fd) }
        descriptors.removeAll()
    }
}

/// A temporary directory tree removed at the end of the test.
final class ScratchDirectory {
    let path: String
    init() {
        var template = Array("/tmp/tailcar-model-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }
    deinit { _ = system("rm -rf '\(path)'") }
}

@Suite("Tail model")
struct TailModelTests {
    enum Operation: CaseIterable {
        case append, tick, renameRotate, copyTruncate, truncateWithoutCopy, copyTruncateCompressed, delete, restart, crash
    }

    @Test("every line written is delivered through rotation, truncation, deletion, restart and crash",
          arguments: Array(1...32) as [UInt64])
    func replay(seed: UInt64) throws {
        let scratch = ScratchDirectory()
        let logs = scratch.path + "/logs"
        mkdir(logs, 0o755)
        let checkpoints = scratch.path + "/checkpoints"
        var random = SeededGenerator(seed: seed)
        let writer = ModelWriter(directory: logs)
        let flusher = RecordingFlusher()
        // Even seeds: acknowledgements come a tick after delivery, so crashes find batches in flight.
        flusher.acknowledgeLater = seed % 2 == 0
        var harness = try TailHarness(directory: logs, checkpoints: checkpoints, flusher: flusher)
        var writtenBeforeCrash = 0
        let names = ["a.log", "b.log", "c.log"]

        for _ in 0..<120 {
            let name = names[random.below(names.count)]
            switch Operation.allCases[random.below(Operation.allCases.count)] {
            case .append, .tick:
                writer.append(to: name, count: 1 + random.below(40))
                if random.below(2) == 0 { try harness.tick() }
            case .renameRotate:
                try harness.tick()
                writer.renameRotate(name, lateLines: random.below(5))
                try harness.tick()
            case .copyTruncate:
                // Half the time the application writes more after the tailer's last look and logrotate copies
                // and truncates before the next: the lines it had not read must come from the copy.
                // The tailer must have seen the file with content: a copy is known by its first bytes.
                var status = stat()
                let seenWithContent = stat(logs + "/" + name, &status) == 0 && status.st_size > 0
                try harness.tick()
                if seenWithContent, random.below(2) == 0 { writer.append(to: name, count: 1 + random.below(20)) }
                writer.copyTruncate(name)
                if random.below(2) == 0 { writer.append(to: name, count: 1 + random.below(5)) }
                try harness.tick()
            case .truncateWithoutCopy, .copyTruncateCompressed:
                // The tailer caught up: nothing is lost, and no older copy may be read again.
                try harness.tick()
                writer.truncateInPlace(name, compressedCopy: random.below(2) == 0)
                writer.append(to: name, count: 1 + random.below(5))
                try harness.tick()
            case .delete:
                try harness.tick()
                writer.delete(name)
                try harness.tick()
            case .restart:
                try harness.stop()
                harness = try TailHarness(directory: logs, checkpoints: checkpoints, flusher: flusher,
                                          clock: harness.clock, tailingAll: false)
            case .crash:
                // SIGKILL, no final checkpoint: whatever the last periodic save held is what survives. Half the
                // time it comes right after the application wrote more and the file was rotated, truncated with
                // its copy, or appended to, since the agent's last look and checkpoint; with acknowledgements
                // coming late, batches are in flight too.
                var status = stat()
                if stat(logs + "/" + name, &status) == 0, status.st_size > 0, random.below(2) == 0 {
                    try harness.tick()
                    harness.saveCheckpoints()
                    writer.append(to: name, count: 1 + random.below(10))
                    switch random.below(3) {
                    case 0: writer.renameRotate(name, lateLines: random.below(5))
                    case 1: writer.copyTruncate(name)
                    default: break
                    }
                } else if random.below(2) == 0 {
                    harness.saveCheckpoints()
                }
                harness.crash()
                writtenBeforeCrash = writer.written.count
                harness = try TailHarness(directory: logs, checkpoints: checkpoints, flusher: flusher,
                                          clock: harness.clock, tailingAll: false)
            }
            if random.below(4) == 0 { harness.saveCheckpoints() }
        }
        try harness.settle()
        try harness.stop()
        writer.closeAll()

        var counts: [String: Int] = [:]
        for line in flusher.lines { counts[line, default: 0] += 1 }
        let missing = writer.written.filter { counts[$0] == nil }
        #expect(missing.isEmpty, "seed \(seed): \(missing.count) lines lost, first: \(missing.prefix(3))")
        let mayRepeat = Set(writer.written.prefix(writtenBeforeCrash))
        let duplicated = counts.filter { $0.value > 1 && !mayRepeat.contains($0.key) }.map(\.key)
        #expect(duplicated.isEmpty, "seed \(seed): \(duplicated.count) lines duplicated, first: \(duplicated.prefix(3))")
        let unknown = counts.keys.filter { !writer.written.contains($0) }
        #expect(unknown.isEmpty, "seed \(seed): lines never written: \(unknown.prefix(3))")
    }
}

@Suite("Multi-line tail")
struct MultilineTailTests {
    @Test("multi-line records cross read chunks and survive a restart in the middle of a record")
    func recordsAcrossChunksAndRestart() throws {
        let scratch = ScratchDirectory()
        let logs = scratch.path + "/logs"
        mkdir(logs, 0o755)
        let rules = MultilineRules(start: LinePredicate { $0.first == 0x32 }, continuation: nil, end: nil)   // lines starting "2"
        let flusher = RecordingFlusher()
        var harness = try TailHarness(directory: logs, checkpoints: scratch.path + "/ck", flusher: flusher,
                                      multiline: rules, readChunk: 37)
        var expected: [String] = []
        var text = ""
        for index in 0..<40 {
            let record = "2026 record \(index)" + (0..<(index % 4)).map { "\n  at frame \($0) of \(index)" }.joined()
            expected.append(record)
            text += record + "\n"
        }
        let fd = open(logs + "/app.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // Cut just after a newline inside a multi-line record: the record is open across the restart.
        let bytes = Array(text.utf8)
        var half = bytes.count / 2
        while !(bytes[half - 1] == 0x0A && bytes[half] == 0x20) { half += 1 }
        _ = Array(text.utf8)[..<half].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try harness.tick()
        try harness.stop()            // the record open at the cut is not delivered, nor checkpointed past
        harness = try TailHarness(directory: logs, checkpoints: scratch.path + "/ck", flusher: flusher,
                                  clock: harness.clock, tailingAll: false, multiline: rules, readChunk: 37)
        _ = Array(text.utf8)[half...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        try harness.tick()
        try harness.stop()
        // A stop sends the record open at that moment as it stands; its remaining lines arrive after the
        // restart, unmatched. Everything arrives, once.
        let joined = flusher.lines.joined(separator: "\n")
        let want = expected.joined(separator: "\n")
        let got = Array(joined.utf8), wanted = Array(want.utf8)
        let firstDifference = zip(got, wanted).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(joined == want, "differs at byte \(String(describing: firstDifference)) of \(wanted.count) (got \(got.count)): \(String(decoding: got[max(0, (firstDifference ?? got.count) - 40)..<min(got.count, (firstDifference ?? got.count) + 40)], as: UTF8.self).debugDescription)")
    }
}
