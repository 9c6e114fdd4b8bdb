// Where the bench's child cgroups go: the v1 cpu and memory hierarchies (co-mounted or not) or the v2
// mount, from mountinfo and /proc/self/cgroup as this machine and others write them.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Cgroup budget discovery")
struct CgroupBudgetTests {
    private func file(_ scratch: ScratchDirectory, _ name: String, _ text: String) -> String {
        let path = scratch.path + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        return path
    }

    @Test("cgroup v1 with cpu,cpuacct co-mounted and a nested memory cgroup")
    func v1() {
        let scratch = ScratchDirectory()
        let mountInfo = file(scratch, "mountinfo", """
        30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
        32 30 0:28 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
        33 30 0:29 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
        """)
        let membership = file(scratch, "cgroup", "4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n")
        let mounts = CgroupBudget.mounts(mountInfo)
        #expect(mounts.v1["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(mounts.v1["memory"] == "/sys/fs/cgroup/memory")
        #expect(mounts.v2 == "/sys/fs/cgroup/unified")
        let groups = CgroupBudget.membership(membership)
        #expect(groups.v1["memory"] == "/process_api/abc")
        #expect(groups.v1["cpu"] == "/")
        #expect(CgroupBudget.normalized("/") == "")
    }

    @Test("cgroup v2 only, and an escaped mount point")
    func v2() {
        let scratch = ScratchDirectory()
        let mountInfo = file(scratch, "mountinfo", "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n")
        let mounts = CgroupBudget.mounts(mountInfo)
        #expect(mounts.v1.isEmpty)
        #expect(mounts.v2 == "/sys/fs/cgroup")
        #expect(CgroupBudget.membership(file(scratch, "cgroup", "0::/user.slice/a\n")).v2 == "/user.slice/a")
        #expect(CgroupBudget.unescape("/mnt/my\\040dir") == "/mnt/my dir")
    }

    @Test("no cgroup mounts: a clear error naming what was read")
    func none() {
        let scratch = ScratchDirectory()
        let mountInfo = file(scratch, "mountinfo", "")
        let membership = file(scratch, "cgroup", "")
        #expect(throws: CgroupError.self) {
            try CgroupBudget(budget: Budget(cpus: 0.1, memoryBytes: 32 << 20), name: "x", mountInfo: mountInfo,
                             membership: membership)
        }
    }
}
