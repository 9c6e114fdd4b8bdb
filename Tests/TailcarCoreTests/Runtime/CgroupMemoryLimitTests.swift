// CgroupMemoryLimitTests.swift
//
// The memory limit is found through /proc/self/cgroup in both cgroup versions, also in a sub-group and
// in a container that sees its host's cgroup path, on fake cgroup trees in a temporary directory.

import Glibc
import Testing
@testable import TailcarCore

@Suite("cgroup memory limit")
struct CgroupMemoryLimitTests {
    /// A temporary directory with `files` (relative path -> content); removed by `remove()`.
    struct FakeTree {
        let root: String

        init(_ files: [String: String]) {
            root = "/tmp/tailcar-cgroup-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            for (path, content) in files {
                let full = root + "/" + path
                var directory = ""
                for component in full.split(separator: "/").dropLast() {
                    directory += "/" + component
                    mkdir(directory, 0o755)
                }
                let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                _ = content.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        }

        func remove() { _ = system("rm -rf '\(root)'") }
    }

    @Test("v2: the process's own group, read through /proc/self/cgroup")
    func v2OwnGroup() {
        let tree = FakeTree(["proc": "0::/kubepods/pod1/app\n",
                             "sys/memory.max": "max\n",
                             "sys/kubepods/pod1/app/memory.max": "268435456\n"])
        defer { tree.remove() }
        let found = HostIdentity.cgroupMemoryLimit(root: tree.root + "/sys", membership: tree.root + "/proc")
        #expect(found?.bytes == 268_435_456)
        #expect(found?.file == tree.root + "/sys/kubepods/pod1/app/memory.max")
    }

    @Test("v2 in a sub-group without a limit of its own: the parent's limit applies")
    func v2SubGroup() {
        let tree = FakeTree(["proc": "0::/pod/app/worker\n",
                             "sys/pod/app/worker/memory.max": "max\n",
                             "sys/pod/app/memory.max": "536870912\n",
                             "sys/pod/memory.max": "1073741824\n"])
        defer { tree.remove() }
        #expect(HostIdentity.cgroupMemoryLimit(root: tree.root + "/sys", membership: tree.root + "/proc")?.bytes == 536_870_912)
    }

    @Test("v1: the memory controller's line, also among several controllers, and the unlimited number ignored")
    func v1() {
        let tree = FakeTree(["proc": "9:pids:/x\n4:memory,hugetlb:/docker/abc\n0::/\n",
                             "sys/memory/memory.limit_in_bytes": "9223372036854771712\n",
                             "sys/memory/docker/abc/memory.limit_in_bytes": "134217728\n"])
        defer { tree.remove() }
        let found = HostIdentity.cgroupMemoryLimit(root: tree.root + "/sys", membership: tree.root + "/proc")
        #expect(found?.bytes == 134_217_728)
        #expect(found?.file.hasSuffix("/memory/docker/abc/memory.limit_in_bytes") == true)
    }

    @Test("a host path that is not mounted here falls back to the root's files")
    func containerWithoutNamespace() {
        let tree = FakeTree(["proc": "0::/kubepods/burstable/pod9/c1\n", "sys/memory.max": "67108864\n"])
        defer { tree.remove() }
        #expect(HostIdentity.cgroupMemoryLimit(root: tree.root + "/sys", membership: tree.root + "/proc")?.bytes == 67_108_864)
    }

    @Test("no limit anywhere, or nothing readable, is nil")
    func none() {
        let tree = FakeTree(["proc": "0::/a\n", "sys/a/memory.max": "max\n", "sys/memory.max": "max\n"])
        defer { tree.remove() }
        #expect(HostIdentity.cgroupMemoryLimit(root: tree.root + "/sys", membership: tree.root + "/proc")?.bytes == nil)
        #expect(HostIdentity.cgroupMemoryLimit(root: tree.root + "/absent", membership: tree.root + "/absent")?.bytes == nil)
    }

    @Test("ancestors run from the group up to just below the root")
    func ancestors() {
        #expect(HostIdentity.ancestors(of: "/a/b/c") == ["/a/b/c", "/a/b", "/a"])
        #expect(HostIdentity.ancestors(of: "/").isEmpty)
    }
}
