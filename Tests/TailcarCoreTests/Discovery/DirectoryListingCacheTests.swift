// A scan that reuses its last listing of an unchanged directory, and reads again a directory that
// changed, one that changed too recently to trust, and one whose entries needed stat.
import Glibc
import Testing
@testable import TailcarCore

@Suite("DirectoryListingCache")
struct DirectoryListingCacheTests {
    private func touch(_ path: String) {
        close(open(path, O_WRONLY | O_CREAT, 0o644))
    }

    /// Sets a directory's modification time `secondsAgo` into the past (settled, as an idle directory is).
    private func age(_ directory: String, secondsAgo: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let past = timespec(tv_sec: now.tv_sec - secondsAgo, tv_nsec: 0)
        var times = [past, past]
        #expect(utimensat(AT_FDCWD, directory, &times, 0) == 0)
    }

    @Test("an unchanged, settled directory is read once; a new file changes it and is found")
    func reusesUntilChanged() throws {
        let scratch = ScratchDirectory()
        let root = scratch.path
        for name in ["a.log", "b.log", "skip.txt"] { touch(root + "/" + name) }
        age(root, secondsAgo: 5)
        let matcher = try PathMatcher(filePaths: [root + "/*.log"], excludeFilePaths: [], maxDirSearchDepth: 0)
        var cache = DirectoryListingCache()
        let first = matcher.scan(reusing: &cache)
        let second = matcher.scan(reusing: &cache)
        #expect(first.files == [root + "/a.log", root + "/b.log"])
        #expect(second.files == first.files && second.directories == [root])
        #expect(cache.reads == 1)
        touch(root + "/c.log")
        let third = matcher.scan(reusing: &cache)
        #expect(third.files == [root + "/a.log", root + "/b.log", root + "/c.log"])
        #expect(cache.reads == 2)
    }

    @Test("a directory changed within the last second is read on every scan")
    func recentChangeIsNotTrusted() throws {
        let scratch = ScratchDirectory()
        let root = scratch.path
        touch(root + "/a.log")
        let matcher = try PathMatcher(filePaths: [root + "/*.log"], excludeFilePaths: [], maxDirSearchDepth: 0)
        var cache = DirectoryListingCache()
        _ = matcher.scan(reusing: &cache)
        _ = matcher.scan(reusing: &cache)
        #expect(cache.reads == 2)
    }

    @Test("a listing with a symlink is read on every scan, and subdirectories keep their own listings")
    func symlinksAndSubdirectories() throws {
        let scratch = ScratchDirectory()
        let root = scratch.path
        mkdir(root + "/plain", 0o755)
        mkdir(root + "/linked", 0o755)
        touch(root + "/plain/one.log")
        touch(root + "/target.log")
        symlink(root + "/target.log", root + "/linked/two.log")
        for directory in [root, root + "/plain", root + "/linked"] { age(directory, secondsAgo: 5) }
        let matcher = try PathMatcher(filePaths: [root + "/**/*.log"], excludeFilePaths: [], maxDirSearchDepth: 1)
        var cache = DirectoryListingCache()
        let first = matcher.scan(reusing: &cache)
        #expect(first.files == [root + "/linked/two.log", root + "/plain/one.log", root + "/target.log"])
        #expect(cache.reads == 3)
        let second = matcher.scan(reusing: &cache)
        #expect(second.files == first.files)
        #expect(cache.reads == 4, "only the directory holding a symlink is read again")
    }
}
