// PathMatcher.swift
//
// The file side of one input_file: its FilePaths and ExcludeFilePaths patterns, which files it wants,
// which directories may lead to them, and a scan that walks those directories. Owns directory walking
// (readdir, never following a directory symlink into a loop); does not open or watch anything.

import Glibc

public struct PathMatcher: Sendable {
    private let patterns: [GlobPattern]
    private let excludes: [GlobPattern]

    public init(filePaths: [String], excludeFilePaths: [String], maxDirSearchDepth: Int) throws(GlobError) {
        var patterns: [GlobPattern] = []
        for path in filePaths { patterns.append(try GlobPattern(path, maxDepth: maxDirSearchDepth)) }
        var excludes: [GlobPattern] = []
        for path in excludeFilePaths { excludes.append(try GlobPattern(path, maxDepth: 1000)) }
        self.patterns = patterns
        self.excludes = excludes
    }

    /// Where scanning starts: each pattern's wildcard-free directory prefix, without duplicates.
    public var rootDirectories: [String] {
        var seen = Set<String>()
        return patterns.map(\.root).filter { seen.insert($0).inserted }
    }

    public func wantsFile(_ path: String) -> Bool {
        patterns.contains { $0.matches(path) } && !excludes.contains { $0.matches(path) }
    }

    public func wantsDirectory(_ path: String) -> Bool {
        patterns.contains { $0.mayContain(directory: path) }
    }

    /// Every wanted regular file (symlinks to files count) and every directory that must be watched.
    public func scan() -> (files: [String], directories: [String], errors: [SystemError]) {
        var walk = Walk()
        for root in rootDirectories where wantsDirectory(root) {
            walk.visit(root, matcher: self)
        }
        return (walk.files.sorted(), walk.directories.sorted(), walk.errors)
    }
}

/// The state of one scan.
private struct Walk {
    var files: [String] = []
    var directories: [String] = []
    var errors: [SystemError] = []
    var visited = Set<FileIdentity>()

    mutating func visit(_ directory: String, matcher: PathMatcher) {
        guard let status = try? FileStatus.of(path: directory), status.isDirectory,
              visited.insert(status.identity).inserted else { return }
        let entries: [DirectoryEntry]
        do {
            entries = try directoryEntries(directory)
        } catch {
            errors.append(error)
            return
        }
        directories.append(directory)
        var subdirectories: [String] = []
        for entry in entries {
            let path = joinPath(directory, entry.name)
            switch entry.type {
            case Int32(DT_DIR):
                if matcher.wantsDirectory(path) { subdirectories.append(path) }
            case Int32(DT_REG):
                if matcher.wantsFile(path) { files.append(path) }
            default:
                // Symlinks and file systems without d_type: ask stat.
                guard let target = try? FileStatus.of(path: path) else { continue }
                if target.isDirectory, matcher.wantsDirectory(path) {
                    subdirectories.append(path)
                } else if target.isRegularFile, matcher.wantsFile(path) {
                    files.append(path)
                }
            }
        }
        for subdirectory in subdirectories { visit(subdirectory, matcher: matcher) }
    }
}
