// TruncationCopy.swift
//
// Where the bytes of a file truncated in place (logrotate's copytruncate) live on when Tailcar had not read
// them yet: the copy logrotate made beside it. Owns finding that copy; the tailer that drains it belongs to
// InputRunner+Truncation.swift.
//
//   app.log   read to 4,000 of 4,100 bytes, then truncated to 0
//   app.log.1 (copy, any name, same directory): first KiB fingerprints as app.log's, 4,100 bytes
//     -> .copy(app.log.1): bytes 4,000..<4,100 are read from it
//   app.log.1.gz (logrotate's `compress` without `delaycompress`), no plain copy
//     -> .compressed(app.log.1.gz, originalSize: 4,100 from gzip's trailer): 100 bytes reported lost
//
// A candidate is a regular file in the same directory (or one the input names as where logrotate's `olddir`
// puts copies), not the truncated file itself and not a file this
// input already tails, that starts with the bytes the truncated file was fingerprinted by and reaches the
// offset reading stopped at. Of several, the most recently modified wins. What a file held before Tailcar
// first saw it with content (an empty fingerprint) cannot be told from older copies and is not looked for
// (the caller's rule). A compressed copy cannot be fingerprinted,
// so it counts only when its name starts with the truncated file's and it changed in the last ten minutes.

import Glibc

enum TruncationCopy {
    /// A copy that holds the unread bytes, opened read-only (the caller owns `fd`).
    case copy(path: String, fd: Int32, status: FileStatus)
    /// No plain copy, but a compressed one appeared; `originalSize` from gzip's trailer where readable.
    case compressed(path: String, originalSize: UInt64?)
    case none

    static let compressedSuffixes = [".gz", ".bz2", ".xz", ".zst", ".lz4", ".z"]
    /// A compressed file older than this is an earlier rotation's, not this truncation's copy.
    static let compressedRecentSeconds: Int64 = 600

    /// Looks beside `path` for the copy of the file `identity` (fingerprinted `fingerprint`) that reaches
    /// `offset`. `isKnown` says whether the open candidate is a file this
    /// input tails or lately tailed (a rotated file, a copy already drained), by identity and first bytes, since
    /// an inode freed by a deletion is soon another file's.
    static func find(path: String, identity: FileIdentity, fingerprint: Fingerprint, reaching offset: UInt64,
                     alsoIn rotationDirectories: [String] = [],
                     isKnown: (FileIdentity, Int32, String) -> Bool) -> TruncationCopy {
        guard let slash = path.lastIndex(of: "/") else { return .none }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let baseName = String(path[path.index(after: slash)...])
        var searched = [directory]
        for extra in rotationDirectories where !searched.contains(extra) { searched.append(extra) }
        var candidates: [(name: String, path: String)] = []
        for folder in searched {
            for entry in (try? directoryEntries(folder)) ?? [] where !(folder == directory && entry.name == baseName) {
                candidates.append((entry.name, joinPath(folder, entry.name)))
            }
        }
        var best: (path: String, fd: Int32, status: FileStatus)?
        var compressed: (path: String, modified: Int64)?
        for entry in candidates {
            let candidate = entry.path
            guard let status = try? FileStatus.of(path: candidate), status.isRegularFile,
                  status.identity != identity else { continue }
            if compressedSuffixes.contains(where: entry.name.hasSuffix) {
                if entry.name.hasPrefix(baseName), status.modifiedNanoseconds > (compressed?.modified ?? .min) {
                    compressed = (candidate, status.modifiedNanoseconds)
                }
                continue
            }
            guard status.size >= offset, status.size >= UInt64(fingerprint.length),
                  status.modifiedNanoseconds > (best?.status.modifiedNanoseconds ?? .min),
                  let fd = try? systemCall("open", path: candidate, { open(candidate, O_RDONLY | O_CLOEXEC) })
            else { continue }
            guard (try? fingerprint.matches(fd: fd, path: candidate)) == true,
                  !isKnown(status.identity, fd, candidate) else {
                close(fd)
                continue
            }
            if let previous = best { close(previous.fd) }
            best = (candidate, fd, status)
        }
        if let best { return .copy(path: best.path, fd: best.fd, status: best.status) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if let compressed, Int64(now.tv_sec) - compressed.modified / 1_000_000_000 <= compressedRecentSeconds {
            return .compressed(path: compressed.path, originalSize: gzipOriginalSize(compressed.path))
        }
        return .none
    }

    /// gzip's ISIZE: the last four bytes, little-endian, the uncompressed size modulo 2^32; nil for other
    /// formats or an unreadable file.
    static func gzipOriginalSize(_ path: String) -> UInt64? {
        guard path.hasSuffix(".gz"), let status = try? FileStatus.of(path: path), status.size >= 18,
              let fd = try? systemCall("open", path: path, { open(path, O_RDONLY | O_CLOEXEC) }) else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 2)
        var trailer = [UInt8](repeating: 0, count: 4)
        let headerRead = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 2, 0) }
        let trailerRead = trailer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, off_t(status.size - 4)) }
        guard headerRead == 2, trailerRead == 4, header == [0x1F, 0x8B] else { return nil }
        return trailer.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}
