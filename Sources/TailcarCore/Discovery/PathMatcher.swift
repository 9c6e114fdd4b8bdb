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
        var cache = DirectoryListingCache()
        return scan(reusing: &cache)
    }

    /// As `scan()`, reading again only the directories that changed since `cache` last saw them.
    public func scan(reusing cache: inout DirectoryListingCache)
        -> (files: [String], directories: [String], errors: [SystemError]) {
        var walk = Walk()
        for root in rootDirectories where wantsDirectory(root) {
            walk.visit(root, matcher: self, cache: &cache)
        }
        cache.keepOnly(Set(walk.directories))
        let files = walk.listingsWithFiles > 1 ? walk.files.sorted() : walk.files
        return (files, walk.directories.sorted(), walk.errors)
    }
}

/// The state of one scan.
private struct Walk {
    var files: [String] = []
    var directories: [String] = []
    var errors: [SystemError] = []
    var visited = Set<FileIdentity>()
    /// Directories that contributed files (one alone is already sorted).
    var listingsWithFiles = 0

    mutating func visit(_ directory: String, matcher: PathMatcher, cache: inout DirectoryListingCache) {
        guard let status = try? FileStatus.of(path: directory), status.isDirectory,
              visited.insert(status.identity).inserted else { return }
        let listing: DirectoryListingCache.Listing
        if let kept = cache.listing(of: directory, status: status) {
            listing = kept
        } else {
            let readAt = DirectoryListingCache.realtimeNanoseconds()
            do {
                let (fresh, cacheable) = try read(directory, status: status, matcher: matcher)
                listing = fresh
                cache.record(fresh, of: directory, readAtNanoseconds: readAt, cacheable: cacheable)
            } catch {
                errors.append(error)
                return
            }
        }
        directories.append(directory)
        if !listing.files.isEmpty {
            listingsWithFiles += 1
            if files.isEmpty { files = listing.files } else { files.append(contentsOf: listing.files) }
        }
        for subdirectory in listing.subdirectories { visit(subdirectory, matcher: matcher, cache: &cache) }
    }

    /// Reads a directory's entries and sorts them into wanted files and subdirectories; not cacheable
    /// when some entry needed stat to tell what it is.
    private func read(_ directory: String, status: FileStatus, matcher: PathMatcher)
        throws(SystemError) -> (DirectoryListingCache.Listing, Bool) {
        var listing = DirectoryListingCache.Listing(identity: status.identity,
                                                    modifiedNanoseconds: status.modifiedNanoseconds,
                                                    files: [], subdirectories: [])
        var cacheable = true
        for entry in try directoryEntries(directory) {
            let path = joinPath(directory, entry.name)
            switch entry.type {
            case Int32(DT_DIR):
                if matcher.wantsDirectory(path) { listing.subdirectories.append(path) }
            case Int32(DT_REG):
                if matcher.wantsFile(path) { listing.files.append(path) }
            default:
                // Symlinks and file systems without d_type: ask stat.
                cacheable = false
                guard let target = try? FileStatus.of(path: path) else { continue }
                if target.isDirectory, matcher.wantsDirectory(path) {
                    listing.subdirectories.append(path)
                } else if target.isRegularFile, matcher.wantsFile(path) {
                    listing.files.append(path)
                }
            }
        }
        listing.files.sort()
        return (listing, cacheable)
    }
}
