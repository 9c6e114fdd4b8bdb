// HostIdentity.swift
//
// Facts about the machine the agent runs in that leave with every batch or bound its memory: the IP
// address for SLS's `__source__`, the container's memory limit and CPU quota from its cgroup, and the CPUs it
// may run on. Owns reading them from libuv, /proc/self/cgroup and /sys/fs/cgroup; does not own where they
// are used.

import CLibUV
import Glibc

public enum HostIdentity {
    /// The first IPv4 address of a non-loopback interface (the pod IP inside a pod), else "127.0.0.1".
    public static func primaryIPv4() -> String {
        var list: UnsafeMutablePointer<uv_interface_address_t>?
        var count: Int32 = 0
        guard uv_interface_addresses(&list, &count) == 0, let list else { return "127.0.0.1" }
        defer { uv_free_interface_addresses(list, count) }
        for index in 0..<Int(count) {
            var entry = list[index]
            guard entry.is_internal == 0, entry.address.address4.sin_family == sa_family_t(AF_INET) else { continue }
            var text = [CChar](repeating: 0, count: 32)
            uv_ip4_name(&entry.address.address4, &text, text.count)
            return String(cString: text)
        }
        return "127.0.0.1"
    }

    /// The tightest memory limit over this process's cgroup and its ancestors, and the file that set it; nil
    /// when there is none or it cannot be read.
    /// The cgroup comes from `membership` (/proc/self/cgroup), as libuv's uv_get_constrained_memory finds it:
    ///
    ///   v2: `0::/kubepods/pod1/app`          -> ROOT/kubepods/pod1/app/memory.max, then each parent's
    ///   v1: `4:memory:/kubepods/pod1/app`    -> ROOT/memory/kubepods/pod1/app/memory.limit_in_bytes, ...
    ///
    /// A path that is not mounted here (a container without its own cgroup namespace sees its host's path but
    /// has its own cgroup mounted at the root) is skipped, and the root's own files are read last, so a
    /// limit set anywhere between the process and the root applies. `max` and v1's huge "unlimited" number
    /// mean none.
    public static func cgroupMemoryLimit(root: String = "/sys/fs/cgroup",
                                                  membership: String = "/proc/self/cgroup") -> (bytes: Int, file: String)? {
        var candidates: [String] = []
        for group in memberships(membership) {
            if group.isUnified {
                candidates += ancestors(of: group.path).map { root + $0 + "/memory.max" }
            } else if group.controllers.contains("memory") {
                candidates += ancestors(of: group.path).map { root + "/memory" + $0 + "/memory.limit_in_bytes" }
            }
        }
        candidates += [root + "/memory.max", root + "/memory/memory.limit_in_bytes"]
        var tightest: (bytes: Int, file: String)?
        for file in candidates {
            guard let bytes = try? readWholeFile(file) else { continue }
            let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            guard let value = Int(text), value > 0, value < 1 << 50 else { continue }
            if tightest == nil || value < tightest!.bytes { tightest = (value, file) }
        }
        return tightest
    }

    /// The tightest CPU quota over this process's cgroup and its ancestors, in CPUs (cgroup v2 `cpu.max`
    /// "150000 100000" is 1.5; v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`), and the file that set it; nil
    /// when no cgroup sets one ("max", -1). Paths are found as `cgroupMemoryLimit` finds them.
    public static func cgroupCPUQuota(root: String = "/sys/fs/cgroup",
                                      membership: String = "/proc/self/cgroup") -> (cpus: Double, file: String)? {
        var candidates: [(quota: String, period: String?)] = []
        for group in memberships(membership) {
            if group.isUnified {
                candidates += ancestors(of: group.path).map { (root + $0 + "/cpu.max", nil) }
            } else if group.controllers.contains("cpu") {
                let mount = root + "/" + group.controllers.joined(separator: ",")
                candidates += ancestors(of: group.path).map { (mount + $0 + "/cpu.cfs_quota_us", mount + $0 + "/cpu.cfs_period_us") }
            }
        }
        candidates += [(root + "/cpu.max", nil), (root + "/cpu/cpu.cfs_quota_us", root + "/cpu/cpu.cfs_period_us"),
                       (root + "/cpu,cpuacct/cpu.cfs_quota_us", root + "/cpu,cpuacct/cpu.cfs_period_us")]
        func number(_ file: String) -> Double? {
            guard let bytes = try? readWholeFile(file) else { return nil }
            return Double(String(decoding: bytes, as: UTF8.self).trimmingWhitespace)
        }
        var tightest: (cpus: Double, file: String)?
        for candidate in candidates {
            let cpus: Double?
            if let periodFile = candidate.period {
                guard let quota = number(candidate.quota), quota > 0, let period = number(periodFile), period > 0 else { continue }
                cpus = quota / period
            } else {
                guard let bytes = try? readWholeFile(candidate.quota) else { continue }
                let fields = String(decoding: bytes, as: UTF8.self).trimmingWhitespace.split(separator: " ")
                guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0,
                      period > 0 else { continue }
                cpus = quota / period
            }
            if let cpus, tightest == nil || cpus < tightest!.cpus { tightest = (cpus, candidate.quota) }
        }
        return tightest
    }

    /// CPUs this process may run on (its affinity mask; libuv's uv_available_parallelism).
    public static func availableCPUs() -> Int { Int(uv_available_parallelism()) }

    /// Threads worth running beside the loop for CPU-bound work: none when the container may use one CPU or
    /// less (the loop does it, no thread overhead), else the quota rounded up, at most the CPUs this process
    /// may run on.
    public static func workerThreads(quota: Double?, availableCPUs: Int) -> Int {
        let limit = quota.map { Int($0.rounded(.up)) } ?? availableCPUs
        let usable = min(max(limit, 1), max(availableCPUs, 1))
        return usable <= 1 ? 0 : usable
    }

    /// The lines of /proc/self/cgroup: `0::/path` is the v2 (unified) group, `4:memory:/path` and
    /// `3:cpu,cpuacct:/path` are v1 groups with their controllers (mounted at /sys/fs/cgroup/<controllers>).
    static func memberships(_ file: String) -> [(isUnified: Bool, controllers: [String], path: String)] {
        let lines = String(decoding: (try? readWholeFile(file)) ?? [], as: UTF8.self).split(separator: "\n")
        return lines.compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            return (parts[0] == "0" && parts[1].isEmpty, parts[1].split(separator: ",").map(String.init), String(parts[2]))
        }
    }

    /// `/a/b/c` -> [`/a/b/c`, `/a/b`, `/a`]; the root itself is read separately.
    static func ancestors(of path: String) -> [String] {
        var components = path.split(separator: "/").map(String.init)
        var paths: [String] = []
        while !components.isEmpty {
            paths.append("/" + components.joined(separator: "/"))
            components.removeLast()
        }
        return paths
    }

    /// The default cap on bytes held for delivery, all pipelines together: an eighth of the container's
    /// memory limit between 4 MiB and 256 MiB, or 32 MiB when there is no limit.
    public static func defaultInFlightBytes(memoryLimit: Int?) -> Int {
        guard let memoryLimit else { return 32 << 20 }
        return min(256 << 20, max(4 << 20, memoryLimit / 8))
    }
}
