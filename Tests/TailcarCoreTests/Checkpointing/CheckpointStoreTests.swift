// The checkpoint file: round trips any path, is replaced atomically, and reports corruption precisely.
import Glibc
import Testing
@testable import TailcarCore

@Suite("CheckpointStore")
struct CheckpointStoreTests {
    private func entry(_ path: String, offset: UInt64) -> CheckpointEntry {
        CheckpointEntry(pipeline: "p\tq%", identity: FileIdentity(device: 2049, inode: 1_234_567),
                        fingerprint: Fingerprint(length: 17, hash: 0xDEAD_BEEF_0BAD_F00D), offset: offset,
                        path: path, updatedSeconds: 1_732_668_000)
    }

    @Test("entries round-trip, paths with tabs, newlines and percent signs included")
    func roundTrip() throws {
        let scratch = ScratchDirectory()
        let store = try CheckpointStore(directory: scratch.path + "/deep/er")
        let entries = [entry("/l/a.log", offset: 10), entry("/l/we\tird\nna%me.log", offset: 1 << 40)]
        try store.save(entries)
        #expect(try store.load() == entries)
        try store.save([])
        #expect(try store.load().isEmpty)
    }

    @Test("no file means no checkpoints; a crash's leftover temporary file is ignored")
    func missingAndLeftover() throws {
        let scratch = ScratchDirectory()
        let store = try CheckpointStore(directory: scratch.path)
        #expect(try store.load().isEmpty)
        let fd = open(store.filePath + ".tmp", O_WRONLY | O_CREAT, 0o644)
        _ = write(fd, "garbage", 7)
        close(fd)
        #expect(try store.load().isEmpty)
        try store.save([entry("/l/a.log", offset: 1)])
        #expect(try store.load().count == 1)
    }

    @Test("corrupt, truncated and future files are errors naming the line")
    func corruption() throws {
        let scratch = ScratchDirectory()
        let store = try CheckpointStore(directory: scratch.path)
        func put(_ text: String) {
            let fd = open(store.filePath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
        put("tailcar-checkpoints 1\np\t1\t2\t3\tff\tNaN\t0\t/x\n")
        #expect(throws: CheckpointError.corrupt(path: store.filePath, line: 2, what: "offset is not a number")) {
            try store.load()
        }
        put("tailcar-checkpoints 1\np\t1\t2\t3\tff\t4\t0\t/x")
        #expect(throws: CheckpointError.self) { try store.load() }
        put("tailcar-checkpoints 9\n")
        #expect(throws: CheckpointError.unsupportedVersion(path: store.filePath, found: "9")) { try store.load() }
    }

    @Test("a fingerprint tells a rewritten file from a grown one, and a 1-byte file has one")
    func fingerprints() throws {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/f.log"
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        _ = write(fd, "x", 1)
        let small = try Fingerprint.read(fd: fd, path: path)
        #expect(small.length == 1)
        _ = write(fd, "yz", 2)
        #expect(try small.matches(fd: fd, path: path))
        _ = pwrite(fd, "Q", 1, 0)
        #expect(try !small.matches(fd: fd, path: path))
        let status = try FileStatus.of(fd: fd, path: path)
        rename(path, path + ".1")
        #expect(try FileStatus.of(path: path + ".1").identity == status.identity)
    }
}
