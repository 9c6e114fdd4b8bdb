// DirectoryEntries.swift
//
// Reading a directory: its entries' names and types, without "." and "..". The one place readdir is called.

import Glibc

struct DirectoryEntry {
    var name: String
    /// readdir's d_type (DT_REG, DT_DIR, DT_LNK, or DT_UNKNOWN on file systems that do not say).
    var type: Int32
}

func directoryEntries(_ path: String) throws(SystemError) -> [DirectoryEntry] {
    guard let handle = opendir(path) else { throw SystemError(operation: "opendir", path: path, code: currentErrno) }
    defer { closedir(handle) }
    var entries: [DirectoryEntry] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
        if name == "." || name == ".." { continue }
        entries.append(DirectoryEntry(name: name, type: Int32(entry.pointee.d_type)))
    }
    return entries
}

/// `directory/name`, without a doubled slash at the root.
func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
