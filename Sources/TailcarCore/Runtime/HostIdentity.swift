// HostIdentity.swift
//
// Facts about the machine the agent runs in that leave with every batch or bound its memory: the IP
// address for SLS's `__source__` and the container's memory limit from its cgroup. Owns reading them from
// libuv and /sys/fs/cgroup; does not own where they are used.

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

    /// The memory limit of this container's cgroup (v2 `memory.max`, else v1 `memory.limit_in_bytes`);
    /// nil when there is none or it cannot be read.
    public static func cgroupMemoryLimit(root: String = "/sys/fs/cgroup") -> Int? {
        for path in [root + "/memory.max", root + "/memory/memory.limit_in_bytes"] {
            guard let bytes = try? readWholeFile(path) else { continue }
            let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            guard let value = Int(text) else { return nil }  // "max": unlimited
            return value >= 1 << 50 ? nil : value  // v1 reports "unlimited" as a huge page-aligned number
        }
        return nil
    }

    /// The default cap on bytes held for delivery, all pipelines together: an eighth of the container's
    /// memory limit between 4 MiB and 256 MiB, or 32 MiB when there is no limit.
    public static func defaultInFlightBytes(memoryLimit: Int?) -> Int {
        guard let memoryLimit else { return 32 << 20 }
        return min(256 << 20, max(4 << 20, memoryLimit / 8))
    }
}
