// DirectoryListingCache.swift
//
// What one input's last scan found in each directory (the wanted files and the subdirectories that may
// lead to more), kept while the directory's identity and modification time stay the same. A directory's
// mtime changes whenever an entry is created, removed or renamed, so an unchanged directory is not read
// again: an idle poll tick over 1,000 files costs one stat instead of a readdir, 1,000 names and 1,000
// pattern matches. Owns the reuse rule; does not walk directories (PathMatcher does).
//
// Racy listings: mtime is kept at the kernel's coarse clock, so an entry created just after a read may
// leave the mtime the read saw. A listing is reused only when the directory's mtime was at least
// `settleNanoseconds` older than the moment it was read. Listings that needed stat (symlinks, file
// systems without d_type) are never kept: what they point at can change without the directory changing.

import Glibc

public struct DirectoryListingCache: Sendable {
    struct Listing: Sendable {
        var identity: FileIdentity
        var modifiedNanoseconds: Int64
        /// Wanted files, full paths, sorted.
        var files: [String]
        /// Subdirectories the patterns may lead into, full paths.
        var subdirectories: [String]
    }

    /// How long before a read a directory must have last changed for its listing to be kept.
    static let settleNanoseconds: Int64 = 1_000_000_000

    private var listings: [String: Listing] = [:]
    /// Directories read (not reused) since this cache was made: for tests and diagnostics.
    public private(set) var reads = 0

    public init() {}

    /// The kept listing of `directory`, if it still describes the directory `status` shows.
    func listing(of directory: String, status: FileStatus) -> Listing? {
        guard let kept = listings[directory], kept.identity == status.identity,
              kept.modifiedNanoseconds == status.modifiedNanoseconds else { return nil }
        return kept
    }

    /// Records a fresh read; keeps it when the directory had settled before the read began.
    mutating func record(_ listing: Listing, of directory: String, readAtNanoseconds: Int64, cacheable: Bool) {
        reads += 1
        if cacheable && listing.modifiedNanoseconds <= readAtNanoseconds - Self.settleNanoseconds {
            listings[directory] = listing
        } else {
            listings[directory] = nil
        }
    }

    /// Forgets directories this scan did not reach (removed, or no longer wanted).
    mutating func keepOnly(_ reached: Set<String>) {
        if listings.count > reached.count { listings = listings.filter { reached.contains($0.key) } }
    }

    static func realtimeNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
    }
}
