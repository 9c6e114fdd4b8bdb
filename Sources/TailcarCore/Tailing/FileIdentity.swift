// FileIdentity.swift
//
// What makes a file the same file: its device and inode, plus a fingerprint of its first bytes. A path is
// only a label (rotation renames files; deletion frees inodes for reuse). Owns stat(2) and the fingerprint;
// does not decide what a changed identity means (InputRunner+Lifecycle does).

import Glibc

/// The kernel's name for a file: stable across rename(2), reused after unlink(2).
/// An inode alone cannot tell "renamed" from "new file that got the old inode";
/// pair it with a `Fingerprint` before trusting a checkpoint.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

/// A hash of a file's first min(size, 1024) bytes (64-bit FNV-1a). A 1-byte file has one; an empty file
/// has length 0, which every file matches. As the file grows past `length`, the reader re-fingerprints.
public struct Fingerprint: Hashable, Sendable {
    public static let maxLength = 1024

    public var length: Int
    public var hash: UInt64

    public init(length: Int, hash: UInt64) {
        self.length = length
        self.hash = hash
    }

    /// Hashes the first min(size, maxLength) bytes of the open file.
    public static func read(fd: Int32, path: String) throws(SystemError) -> Fingerprint {
        var bytes = [UInt8](repeating: 0, count: maxLength)
        let got = try readPrefix(fd: fd, path: path, into: &bytes)
        return Fingerprint(length: got, hash: fnv1a(bytes[0..<got]))
    }

    /// Whether the open file still starts with the bytes this fingerprint hashed.
    public func matches(fd: Int32, path: String) throws(SystemError) -> Bool {
        guard length > 0 else { return true }
        var bytes = [UInt8](repeating: 0, count: length)
        let got = try Self.readPrefix(fd: fd, path: path, into: &bytes)
        return got == length && Self.fnv1a(bytes[0..<got]) == hash
    }

    private static func readPrefix(fd: Int32, path: String, into bytes: inout [UInt8]) throws(SystemError) -> Int {
        var got = 0
        while got < bytes.count {
            let n = try systemCall("pread", path: path) {
                bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, $0.count - got, off_t(got)) }
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}

/// What stat(2) says of a file, in Tailcar's terms.
public struct FileStatus: Sendable {
    public var identity: FileIdentity
    public var size: UInt64
    public var modifiedSeconds: Int64
    /// The modification time in nanoseconds since the epoch (a directory's changes with its entries).
    public var modifiedNanoseconds: Int64
    public var isRegularFile: Bool
    public var isDirectory: Bool
    /// Hard links left: 0 once the file is deleted while still open.
    public var linkCount: UInt64

    init(_ raw: stat) {
        identity = FileIdentity(device: UInt64(raw.st_dev), inode: UInt64(raw.st_ino))
        size = UInt64(max(0, raw.st_size))
        modifiedSeconds = Int64(raw.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(raw.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(raw.st_mtim.tv_nsec)
        isRegularFile = (raw.st_mode & S_IFMT) == S_IFREG
        isDirectory = (raw.st_mode & S_IFMT) == S_IFDIR
        linkCount = UInt64(raw.st_nlink)
    }

    /// stat(2), following symlinks.
    public static func of(path: String) throws(SystemError) -> FileStatus {
        var raw = stat()
        _ = try systemCall("stat", path: path) { stat(path, &raw) }
        return FileStatus(raw)
    }

    /// fstat(2) of an open file.
    public static func of(fd: Int32, path: String) throws(SystemError) -> FileStatus {
        var raw = stat()
        _ = try systemCall("fstat", path: path) { fstat(fd, &raw) }
        return FileStatus(raw)
    }
}
