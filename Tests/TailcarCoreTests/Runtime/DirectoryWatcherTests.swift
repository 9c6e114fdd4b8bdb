// Tests of the agent's inotify watcher on a real directory: while paused, many writes to one file are one
// change when drained, files written in turn are each reported once per drain, and creations and renames
// are reported as such. The kernel queues inotify events during write(2) itself, so draining right after
// the writes needs no waiting.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Directory watcher")
struct DirectoryWatcherTests {
    private final class Recorder {
        var changes: [(name: String?, change: DirectoryWatcher.Change)] = []
    }

    private func scratchDirectory() -> String {
        var template = Array("/tmp/tailcar-watch-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: made!)
    }

    private func append(_ path: String, _ text: String, times: Int) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        for _ in 0..<times {
            _ = text.withCString { write(fd, $0, strlen($0)) }
        }
        close(fd)
    }

    private func watching(_ directory: String) throws -> (EventLoop, DirectoryWatcher, Recorder) {
        let loop = try EventLoop()
        let watcher = try DirectoryWatcher(loop: loop)
        let recorder = Recorder()
        watcher.onChange = { _, name, change in recorder.changes.append((name, change)) }
        try watcher.watch(directory)
        return (loop, watcher, recorder)
    }

    private func remove(_ directory: String, _ names: [String]) {
        for name in names { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    @Test("a thousand writes to one file while paused are one change when drained")
    func repeatedWritesMerge() throws {
        let directory = scratchDirectory()
        append(directory + "/app.log", "", times: 0)
        let (loop, watcher, recorder) = try watching(directory)
        watcher.pause()
        append(directory + "/app.log", "GET /index.html 200\n", times: 1000)
        watcher.drain()
        #expect(recorder.changes.count == 1)
        #expect(recorder.changes.first?.name == "app.log")
        #expect(recorder.changes.first?.change == .modified)
        watcher.close()
        loop.close()
        remove(directory, ["app.log"])
    }

    @Test("two files written in turn are each reported once per drain")
    func alternatingFilesOncePerDrain() throws {
        let directory = scratchDirectory()
        append(directory + "/access.log", "", times: 0)
        append(directory + "/error.log", "", times: 0)
        let (loop, watcher, recorder) = try watching(directory)
        watcher.pause()
        let access = open(directory + "/access.log", O_WRONLY | O_APPEND)
        let error = open(directory + "/error.log", O_WRONLY | O_APPEND)
        for _ in 0..<200 {
            _ = write(access, "a\n", 2)
            _ = write(error, "e\n", 2)
        }
        close(access)
        close(error)
        watcher.drain()
        #expect(recorder.changes.map(\.name) == ["access.log", "error.log"])
        recorder.changes.removeAll()
        append(directory + "/error.log", "e\n", times: 3)
        watcher.drain()
        #expect(recorder.changes.map(\.name) == ["error.log"])
        watcher.close()
        loop.close()
        remove(directory, ["access.log", "error.log"])
    }

    @Test("a creation and a rename are reported as renames, between modifications")
    func creationsAndRenames() throws {
        let directory = scratchDirectory()
        let (loop, watcher, recorder) = try watching(directory)
        watcher.pause()
        append(directory + "/app.log", "one\n", times: 1)
        rename(directory + "/app.log", directory + "/app.log.1")
        watcher.drain()
        let renames = recorder.changes.filter { $0.change == .renamed }.compactMap(\.name)
        #expect(renames.contains("app.log"))
        #expect(renames.contains("app.log.1"))
        #expect(recorder.changes.contains { $0.name == "app.log" && $0.change == .modified })
        watcher.close()
        loop.close()
        remove(directory, ["app.log.1"])
    }

    @Test("an unwatched directory reports nothing more")
    func unwatchStopsReports() throws {
        let directory = scratchDirectory()
        let (loop, watcher, recorder) = try watching(directory)
        #expect(watcher.watchedDirectories == 1)
        watcher.unwatch(directory)
        #expect(watcher.watchedDirectories == 0)
        append(directory + "/app.log", "one\n", times: 1)
        watcher.drain()
        #expect(recorder.changes.allSatisfy { $0.name == nil })
        watcher.close()
        loop.close()
        remove(directory, ["app.log"])
    }
}
