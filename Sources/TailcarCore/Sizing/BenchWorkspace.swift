// BenchWorkspace.swift
//
// The temporary directory one `tailcar bench` owns: a copy of the user's configuration (so a podman
// container sees it at the same path), the sample, the child's output and the step directories; removed
// whole at the end, on an error and on Ctrl-C. Also finds the binaries the bench runs.

import Glibc

public struct BenchError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public final class BenchWorkspace {
    public let directory: String

    /// Creates `base/tailcar-bench.XXXXXX`.
    public init(base: String) throws(BenchError) {
        var template = Array((base + "/tailcar-bench.XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw BenchError("cannot create a work directory in \(base): \(String(cString: strerror(errno)))")
        }
        directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func remove() { removeTree(directory) }

    /// Copies a pipeline file, or a directory's regular files, into `config/`; returns the path to load.
    public func copyConfig(_ path: String) throws(BenchError) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { throw BenchError("\(path): \(String(cString: strerror(errno)))") }
        let target = directory + "/config"
        if status.st_mode & S_IFMT == S_IFDIR {
            mkdir(target, 0o755)
            let entries: [DirectoryEntry]
            do { entries = try directoryEntries(path) } catch { throw BenchError(error.description) }
            for entry in entries where !entry.name.hasPrefix(".") {
                var child = stat()
                let source = joinPath(path, entry.name)
                guard stat(source, &child) == 0, child.st_mode & S_IFMT == S_IFREG else { continue }
                try copyFile(source, to: joinPath(target, entry.name))
            }
            return target
        }
        mkdir(target, 0o755)
        let name = path.split(separator: "/").last.map(String.init) ?? "pipeline.yaml"
        try copyFile(path, to: target + "/" + name)
        return target + "/" + name
    }

    /// A file's bytes, at most `limit`.
    public static func read(_ path: String, limit: Int = 64 << 20) throws(BenchError) -> [UInt8] {
        var status = stat()
        guard stat(path, &status) == 0 else { throw BenchError("\(path): \(String(cString: strerror(errno)))") }
        guard Int(status.st_size) <= limit else { throw BenchError("\(path) is larger than \(limit >> 20) MiB; give a smaller sample") }
        do {
            return try readWholeFile(path) ?? []
        } catch {
            throw BenchError(error.description)
        }
    }

    private func copyFile(_ source: String, to target: String) throws(BenchError) {
        let bytes = try Self.read(source, limit: 4 << 20)
        let descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BenchError("\(target): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw BenchError("\(target): short write") }
    }

    /// This process's executable (/proc/self/exe).
    public static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "tailcar"
    }

    /// `name` in a PATH directory, or nil.
    public static func onPath(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return nil
    }

    /// Runs argv to completion (at most `timeout` s) with its output in a file; (exit status, output).
    public func capture(_ argv: [String], timeout: Double = 120) -> (ChildExit?, String) {
        let output = directory + "/capture.txt"
        unlink(output)
        defer { unlink(output) }
        guard let child = try? ChildProcess(argv, output: output) else { return (nil, "cannot start \(argv[0])") }
        if !child.wait(timeout: timeout) { child.stop(grace: 1) }
        let text = String(decoding: (try? readWholeFile(output)) ?? [], as: UTF8.self)
        return (child.exit, text)
    }
}
