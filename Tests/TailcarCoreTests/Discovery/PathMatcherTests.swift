// Glob semantics and directory scans over real temporary trees.
import Glibc
import Testing
@testable import TailcarCore

@Suite("PathMatcher")
struct PathMatcherTests {
    private func touch(_ path: String) {
        close(open(path, O_WRONLY | O_CREAT, 0o644))
    }

    @Test("*, ? and [...] match within one segment and never cross a slash")
    func segmentGlobs() throws {
        let matcher = try PathMatcher(filePaths: ["/var/log/app-?.[lt]og", "/srv/*/x.log"], excludeFilePaths: [],
                                      maxDirSearchDepth: 0)
        #expect(matcher.wantsFile("/var/log/app-1.log"))
        #expect(matcher.wantsFile("/var/log/app-2.tog"))
        #expect(!matcher.wantsFile("/var/log/app-12.log"))
        #expect(matcher.wantsFile("/srv/a/x.log"))
        #expect(!matcher.wantsFile("/srv/a/b/x.log"))
        #expect(matcher.rootDirectories == ["/var/log", "/srv"])
    }

    @Test("** stands for at most MaxDirSearchDepth directory levels")
    func doubleStarDepth() throws {
        let shallow = try PathMatcher(filePaths: ["/l/**/*.log"], excludeFilePaths: [], maxDirSearchDepth: 0)
        #expect(shallow.wantsFile("/l/a.log"))
        #expect(!shallow.wantsFile("/l/d/a.log"))
        #expect(!shallow.wantsDirectory("/l/d"))
        let deep = try PathMatcher(filePaths: ["/l/**/*.log"], excludeFilePaths: [], maxDirSearchDepth: 2)
        #expect(deep.wantsFile("/l/a.log") && deep.wantsFile("/l/d/a.log") && deep.wantsFile("/l/d/e/a.log"))
        #expect(!deep.wantsFile("/l/d/e/f/a.log"))
        #expect(deep.wantsDirectory("/l/d/e") && !deep.wantsDirectory("/l/d/e/f"))
    }

    @Test("excluded paths are never wanted")
    func excludes() throws {
        let matcher = try PathMatcher(filePaths: ["/l/*.log"], excludeFilePaths: ["/l/debug-*.log"],
                                      maxDirSearchDepth: 0)
        #expect(matcher.wantsFile("/l/app.log") && !matcher.wantsFile("/l/debug-1.log"))
    }

    @Test("bad patterns are errors that name the pattern and the position")
    func badPatterns() {
        #expect(throws: GlobError.self) { try PathMatcher(filePaths: ["relative/*.log"], excludeFilePaths: [], maxDirSearchDepth: 0) }
        #expect(throws: GlobError.self) { try PathMatcher(filePaths: ["/l/[ab.log"], excludeFilePaths: [], maxDirSearchDepth: 0) }
        #expect(throws: GlobError.self) { try PathMatcher(filePaths: ["/l/a**b/x.log"], excludeFilePaths: [], maxDirSearchDepth: 0) }
        #expect(throws: GlobError.self) { try PathMatcher(filePaths: ["/l/**"], excludeFilePaths: [], maxDirSearchDepth: 0) }
    }

    @Test("a scan finds wanted files and the directories to watch, within the depth, through a symlink loop")
    func scanTree() throws {
        let scratch = ScratchDirectory()
        let root = scratch.path
        for dir in ["/a", "/a/b", "/a/b/c", "/other"] { mkdir(root + dir, 0o755) }
        for file in ["/top.log", "/a/one.log", "/a/b/two.log", "/a/b/c/three.log", "/a/skip.txt", "/other/x.log"] {
            touch(root + file)
        }
        symlink(root + "/a", root + "/a/b/loop")
        let matcher = try PathMatcher(filePaths: [root + "/**/*.log"], excludeFilePaths: [root + "/other/*"],
                                      maxDirSearchDepth: 2)
        let scan = matcher.scan()
        #expect(scan.files == [root + "/a/b/two.log", root + "/a/one.log", root + "/top.log"])
        #expect(scan.directories == [root, root + "/a", root + "/a/b", root + "/other"])
        #expect(scan.errors.isEmpty)
    }
}
