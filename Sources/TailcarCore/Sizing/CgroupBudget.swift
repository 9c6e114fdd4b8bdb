// CgroupBudget.swift
//
// A real budget through a child cgroup: under cgroup v1 a directory in the `cpu` hierarchy
// (cpu.cfs_quota_us over cpu.cfs_period_us) and one in the `memory` hierarchy (memory.limit_in_bytes, swap
// too where memsw exists, charges moving with the process), each below this process's own cgroup as
// /proc/self/cgroup names it; under v2 one directory with cpu.max, memory.max and memory.swap.max. The
// mounts come from /proc/self/mountinfo. Owns creating, joining and removing those directories.

import Glibc

public enum CgroupVersion: String, Sendable { case v1, v2 }

public struct CgroupError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

public final class CgroupBudget {
    public let version: CgroupVersion
    /// The directories created (one per v1 hierarchy, one for v2), removed by `remove()`.
    public private(set) var directories: [String] = []
    public let budget: Budget

    /// Finds where this process's cgroups are and creates `name` below them with the budget's limits.
    public init(budget: Budget, name: String, mountInfo: String = "/proc/self/mountinfo",
                membership: String = "/proc/self/cgroup") throws(CgroupError) {
        self.budget = budget
        let mounts = Self.mounts(mountInfo)
        let groups = Self.membership(membership)
        if let cpuMount = mounts.v1["cpu"], let memoryMount = mounts.v1["memory"],
           let cpuPath = groups.v1["cpu"], let memoryPath = groups.v1["memory"] {
            version = .v1
            let cpuDirectory = try Self.create(cpuMount + Self.normalized(cpuPath) + "/" + name)
            directories.append(cpuDirectory)
            let memoryDirectory: String
            do {
                memoryDirectory = try Self.create(memoryMount + Self.normalized(memoryPath) + "/" + name)
            } catch {
                remove()
                throw error
            }
            directories.append(memoryDirectory)
            do {
                let period = 100_000
                try Self.write("\(period)", to: cpuDirectory + "/cpu.cfs_period_us")
                try Self.write("\(max(1000, Int((budget.cpus * Double(period)).rounded())))", to: cpuDirectory + "/cpu.cfs_quota_us")
                try Self.write("\(budget.memoryBytes)", to: memoryDirectory + "/memory.limit_in_bytes")
                try? Self.write("\(budget.memoryBytes)", to: memoryDirectory + "/memory.memsw.limit_in_bytes")
                try? Self.write("1", to: memoryDirectory + "/memory.move_charge_at_immigrate")
            } catch {
                remove()
                throw error
            }
        } else if let unified = mounts.v2, let path = groups.v2 {
            version = .v2
            let parent = unified + Self.normalized(path)
            let controllers = String(decoding: (try? readWholeFile(parent + "/cgroup.controllers")) ?? [], as: UTF8.self)
            let names = controllers.split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard names.contains("cpu"), names.contains("memory") else {
                throw CgroupError(description: "cgroup v2 at \(parent) does not offer the cpu and memory controllers "
                                  + "(cgroup.controllers: \"\(controllers.trimmingWhitespace)\")")
            }
            try Self.write("+cpu +memory", to: parent + "/cgroup.subtree_control")
            let directory = try Self.create(parent + "/" + name)
            directories.append(directory)
            do {
                try Self.write("\(max(1000, Int((budget.cpus * 100_000).rounded()))) 100000", to: directory + "/cpu.max")
                try Self.write("\(budget.memoryBytes)", to: directory + "/memory.max")
                try? Self.write("0", to: directory + "/memory.swap.max")
            } catch {
                remove()
                throw error
            }
        } else {
            throw CgroupError(description: "no cgroup v1 cpu and memory hierarchies and no cgroup v2 mount found in "
                              + "\(mountInfo) and \(membership)")
        }
    }

    /// Moves a process (and its future threads) into the budget.
    public func add(_ pid: pid_t) throws(CgroupError) {
        for directory in directories { try Self.write("\(pid)", to: directory + "/cgroup.procs") }
    }

    /// OOM kills in the memory cgroup so far (v1 memory.oom_control, v2 memory.events).
    public var oomKills: Int {
        let file = version == .v1 ? "/memory.oom_control" : "/memory.events"
        guard let directory = directories.last, let bytes = try? readWholeFile(directory + file) else { return 0 }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return Int(line.split(separator: " ").last ?? "0") ?? 0
        }
        return 0
    }

    /// Removes the directories (their processes must have exited); retried briefly, as the kernel frees a
    /// cgroup a moment after its last process is reaped.
    public func remove() {
        for directory in directories.reversed() {
            for _ in 0..<100 where rmdir(directory) != 0 && errno != ENOENT {
                usleep(20_000)
            }
        }
        directories = []
    }

    deinit { remove() }

    // MARK: - Finding the hierarchies

    struct Mounts {
        var v1: [String: String] = [:]
        var v2: String?
    }

    /// Controller name -> mount point for v1; the cgroup2 mount point.
    static func mounts(_ path: String) -> Mounts {
        var found = Mounts()
        let text = String(decoding: (try? readWholeFile(path)) ?? [], as: UTF8.self)
        for line in text.split(separator: "\n") {
            // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let before = halves[0].split(separator: " ")
            let after = halves[1].split(separator: " ")
            guard before.count >= 5, after.count >= 3 else { continue }
            let mountPoint = unescape(String(before[4]))
            if after[0] == "cgroup2" {
                if found.v2 == nil || mountPoint == "/sys/fs/cgroup" { found.v2 = mountPoint }
            } else if after[0] == "cgroup" {
                for option in after[2].split(separator: ",") where ["cpu", "memory"].contains(String(option)) {
                    found.v1[String(option)] = mountPoint
                }
            }
        }
        return found
    }

    struct Membership {
        var v1: [String: String] = [:]
        var v2: String?
    }

    static func membership(_ path: String) -> Membership {
        var found = Membership()
        let text = String(decoding: (try? readWholeFile(path)) ?? [], as: UTF8.self)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0", parts[1].isEmpty { found.v2 = String(parts[2]) }
            for controller in parts[1].split(separator: ",") where ["cpu", "memory"].contains(String(controller)) {
                found.v1[String(controller)] = String(parts[2])
            }
        }
        return found
    }

    /// "/" -> "", "/a/b" -> "/a/b".
    static func normalized(_ path: String) -> String { path == "/" ? "" : path }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func create(_ directory: String) throws(CgroupError) -> String {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw CgroupError(description: "cannot create cgroup \(directory): \(String(cString: strerror(errno)))")
        }
        return directory
    }

    static func write(_ text: String, to file: String) throws(CgroupError) {
        let descriptor = open(file, O_WRONLY)
        guard descriptor >= 0 else {
            throw CgroupError(description: "cannot open \(file): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw CgroupError(description: "cannot write \"\(text)\" to \(file): \(String(cString: strerror(errno)))")
        }
    }
}
