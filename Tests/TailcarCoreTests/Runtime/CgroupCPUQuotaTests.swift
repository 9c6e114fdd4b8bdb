// CgroupCPUQuotaTests.swift
//
// The CPU quota is found through /proc/self/cgroup in both cgroup versions, on fake cgroup trees, and it
// decides how many threads seal SLS batches: none at one CPU or less.

import Glibc
import Testing
@testable import TailcarCore

@Suite("cgroup CPU quota")
struct CgroupCPUQuotaTests {
    typealias FakeTree = CgroupMemoryLimitTests.FakeTree

    @Test("v2: cpu.max of the process's group and its ancestors; the tightest wins")
    func v2() {
        let tree = FakeTree(["proc": "0::/kubepods/pod1/app\n",
                             "sys/cpu.max": "max 100000\n",
                             "sys/kubepods/pod1/cpu.max": "250000 100000\n",
                             "sys/kubepods/pod1/app/cpu.max": "150000 100000\n"])
        defer { tree.remove() }
        let found = HostIdentity.cgroupCPUQuota(root: tree.root + "/sys", membership: tree.root + "/proc")
        #expect(found?.cpus == 1.5)
        #expect(found?.file == tree.root + "/sys/kubepods/pod1/app/cpu.max")
    }

    @Test("v1: cfs_quota_us over cfs_period_us under the cpu,cpuacct mount; -1 is no quota")
    func v1() {
        let tree = FakeTree(["proc": "4:memory:/pod\n3:cpu,cpuacct:/pod/app\n",
                             "sys/cpu,cpuacct/pod/app/cpu.cfs_quota_us": "10000\n",
                             "sys/cpu,cpuacct/pod/app/cpu.cfs_period_us": "100000\n",
                             "sys/cpu,cpuacct/pod/cpu.cfs_quota_us": "-1\n",
                             "sys/cpu,cpuacct/pod/cpu.cfs_period_us": "100000\n"])
        defer { tree.remove() }
        let found = HostIdentity.cgroupCPUQuota(root: tree.root + "/sys", membership: tree.root + "/proc")
        #expect(found?.cpus == 0.1)
        let unlimited = FakeTree(["proc": "3:cpu,cpuacct:/pod\n",
                                  "sys/cpu,cpuacct/pod/cpu.cfs_quota_us": "-1\n",
                                  "sys/cpu,cpuacct/pod/cpu.cfs_period_us": "100000\n"])
        defer { unlimited.remove() }
        #expect(HostIdentity.cgroupCPUQuota(root: unlimited.root + "/sys", membership: unlimited.root + "/proc") == nil)
    }

    @Test("sealing threads: none at one CPU or less, the quota rounded up, never more than the CPUs")
    func threads() {
        #expect(HostIdentity.workerThreads(quota: 0.01, availableCPUs: 8) == 0)
        #expect(HostIdentity.workerThreads(quota: 1, availableCPUs: 8) == 0)
        #expect(HostIdentity.workerThreads(quota: 1.5, availableCPUs: 8) == 2)
        #expect(HostIdentity.workerThreads(quota: 6, availableCPUs: 2) == 2)
        #expect(HostIdentity.workerThreads(quota: nil, availableCPUs: 4) == 4)
        #expect(HostIdentity.workerThreads(quota: nil, availableCPUs: 1) == 0)
    }
}
