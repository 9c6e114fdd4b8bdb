// FileKey.swift
//
// The name the runtime gives one tailed file for as long as it tails it: a number, unique within the
// process. Progress and acknowledgements travel with it; the checkpoint store maps it to the file's
// lasting identity (device, inode and fingerprint, see Tailing/FileIdentity.swift).

public struct FileKey: Hashable, Sendable, CustomStringConvertible {
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    public var description: String { "file#\(raw)" }
}
