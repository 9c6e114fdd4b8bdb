// SLSFlusherTests.swift
//
// flusher_sls on a real loop against the SLS test receiver: how groups are cut into batches at the log
// limit, that a group is acknowledged only once every slice of it was delivered, and that a rejected
// batch is dropped, counted and acknowledged while a retried one is not.

import Glibc
import Testing
@testable import TailcarCore

@Suite("SLS flusher", .serialized, .enabled(if: Harness.available))
struct SLSFlusherTests {
    /// Takes a group's records away once the flusher says it read them, as the pipeline does (it reuses
    /// their memory): a flusher that read them later (a retry, a split) would find none.
    final class Acks: FlushDelegate {
        var groups: [ObjectIdentifier] = []
        var finishedReading: [ObjectIdentifier] = []
        var acknowledgedUnread = 0
        func flusher(_ flusher: any Flusher, acknowledged group: EventGroup) {
            if !finishedReading.contains(ObjectIdentifier(group)) { acknowledgedUnread += 1 }
            groups.append(ObjectIdentifier(group))
        }
        var canTakeMore = 0
        func flusherCanTakeMore(_ flusher: any Flusher) { canTakeMore += 1 }
        func flusher(_ flusher: any Flusher, finishedReading group: EventGroup) {
            finishedReading.append(ObjectIdentifier(group))
            group.moveStorage(to: EventGroup(keys: group.keys))
        }
    }

    struct Fixture {
        let loop: EventLoop
        let client: HTTPClient
        let flusher: SLSFlusher
        let diagnostics = Diagnostics(quiet: true)
        let acks = Acks()

        let sealer: BatchSealer

        /// `sealingThreads` 2 seals on worker threads as a two-CPU pod does; 0 seals on the loop thread.
        init(port: UInt16, policy: SLSDeliveryPolicy, topicKey: String? = nil, sealingThreads: Int = 2) throws {
            loop = try EventLoop()
            client = HTTPClient(loop: loop)
            sealer = try BatchSealer(loop: loop, threads: sealingThreads)
            let credentials = CredentialSource(.fixed(Credentials(accessKeyID: "mockAccessKeyID",
                                                                  accessKeySecret: "mockAccessKeySecret")))
            let settings = SLSFlusherSettings(endpoint: "http://127.0.0.1:\(port)", project: "proj", logstore: "store",
                                              topicKey: topicKey)
            flusher = try SLSFlusher(settings: settings, endpoint: try HTTPEndpoint(parsing: settings.endpoint),
                                     policy: policy, client: client, credentials: credentials, sourceAddress: "10.0.0.9",
                                     sealer: sealer, loop: loop, diagnostics: diagnostics, clock: { [loop] in loop.nowMilliseconds })
            flusher.delegate = acks
        }

        func run(until done: () -> Bool) {
            let deadline = loop.nowMilliseconds + 20_000
            while !done() && loop.nowMilliseconds < deadline {
                loop.runOnce()
                usleep(1000)
            }
        }

        func finish() {
            flusher.close()
            client.shutDown()
            sealer.shutDown()
            loop.close()
        }
    }

    func lines(_ count: Int, from start: Int, path: String) -> EventGroup {
        let group = makeGroup((start..<(start + count)).map { (1_795_744_200, 0, [("content", "line \($0)")]) })
        group.source = EventSource(path: path)
        // As large as a backlog's reads, so the flusher reports when it has read it.
        group.arena.reserveCapacity(EventGroup.storageWorthReleasing)
        return group
    }

    /// Log counts of the groups the receiver accepted, in arrival order.
    func batchSizes(_ receiver: ReceiverProcess) throws -> [Int] {
        let text = try receiver.received()
        return text.split(separator: "\"logs\": [").dropFirst().map { $0.components("\"time\":") }
    }

    @Test("groups are cut at the log limit and acknowledged when their last slice is delivered",
          arguments: [0, 2])
    func cutting(sealingThreads: Int) throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        var policy = SLSDeliveryPolicy()
        policy.maxLogs = 10
        policy.maxConcurrentRequests = 1
        let fixture = try Fixture(port: receiver.port, policy: policy, sealingThreads: sealingThreads)
        let first = lines(25, from: 0, path: "/a.log")
        let second = lines(7, from: 25, path: "/a.log")
        let other = lines(3, from: 100, path: "/b.log")
        fixture.flusher.submit(first)
        fixture.flusher.submit(second)
        fixture.flusher.submit(other)
        fixture.run { fixture.acks.groups.count == 1 }
        #expect(fixture.acks.groups == [ObjectIdentifier(first)])
        #expect(fixture.flusher.pendingGroups == 2)
        fixture.flusher.flushAll()
        fixture.run { fixture.acks.groups.count == 3 }
        #expect(Set(fixture.acks.groups) == Set([first, second, other].map(ObjectIdentifier.init)))
        let sizes = try batchSizes(receiver)
        // 25 + 7 lines of a.log: 10, 10, then 5 + 5 across the two groups, then 2 at stop; b.log's 3 apart.
        #expect(sizes.prefix(3) == [10, 10, 10] && sizes.dropFirst(3).sorted() == [2, 3], "\(sizes)")
        #expect(fixture.diagnostics.counters.batchesSent == 5 && fixture.diagnostics.counters.logsSent == 35)
        fixture.finish()
    }

    @Test("a retried batch is held; a rejected one is dropped, counted and acknowledged")
    func retryAndReject() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0", "--fault", "500"])
        defer { receiver.stop() }
        var policy = SLSDeliveryPolicy()
        policy.retryBaseMilliseconds = 20
        let fixture = try Fixture(port: receiver.port, policy: policy)
        let group = lines(5, from: 0, path: "/a.log")
        fixture.flusher.submit(group)
        fixture.flusher.flushAll()
        fixture.run { fixture.diagnostics.counters.sendFailures >= 3 }
        #expect(fixture.acks.groups.isEmpty && fixture.flusher.pendingGroups == 1)
        try receiver.control(fault: "none")
        fixture.run { fixture.acks.groups.count == 1 }
        #expect(fixture.acks.groups == [ObjectIdentifier(group)])
        try receiver.control(fault: "invalid")
        let rejected = lines(4, from: 5, path: "/a.log")
        fixture.flusher.submit(rejected)
        fixture.flusher.flushAll()
        fixture.run { fixture.acks.groups.count == 2 }
        #expect(fixture.acks.groups.last == ObjectIdentifier(rejected))
        #expect(fixture.diagnostics.counters.recordsRejected == 4)
        fixture.finish()
    }

    @Test("a flusher with its request slots twice over queued is saturated until SLS takes them")
    func saturation() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0", "--fault", "500"])
        defer { receiver.stop() }
        var policy = SLSDeliveryPolicy()
        policy.maxLogs = 1
        policy.maxConcurrentRequests = 1
        policy.retryBaseMilliseconds = 20
        let fixture = try Fixture(port: receiver.port, policy: policy, sealingThreads: 0)
        #expect(fixture.flusher.readyLimit == 2)
        fixture.flusher.submit(lines(1, from: 0, path: "/a.log"))
        #expect(!fixture.flusher.isSaturated)
        for index in 1..<4 { fixture.flusher.submit(lines(1, from: index, path: "/a.log")) }
        fixture.run { fixture.diagnostics.counters.sendFailures >= 2 }
        #expect(fixture.flusher.isSaturated && fixture.acks.canTakeMore == 0)
        try receiver.control(fault: "none")
        fixture.run { fixture.acks.groups.count == 4 }
        #expect(!fixture.flusher.isSaturated && fixture.acks.canTakeMore == 1)
        fixture.finish()
    }

    @Test("TopicKey: runs of records with the same field value share a topic; records without it keep the file's")
    func topicKey() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        let fixture = try Fixture(port: receiver.port, policy: SLSDeliveryPolicy(), topicKey: "svc")
        let group = makeGroup([(1_795_744_200, 7, [("content", "a1"), ("svc", "api")]),
                               (1_795_744_200, 0, [("content", "a2"), ("svc", "api")]),
                               (1_795_744_201, 0, [("content", "b1"), ("svc", "db")]),
                               (1_795_744_202, 0, [("content", "n1")]),
                               (1_795_744_203, 0, [("content", "a3"), ("svc", "api")])])
        group.source = EventSource(path: "/a.log", topic: "file-topic")
        fixture.flusher.submit(group)
        fixture.flusher.flushAll()
        fixture.run { fixture.acks.groups.count == 1 }
        let text = try receiver.received()
        #expect(text.contains("{\"topic\": \"api\", \"source\": \"10.0.0.9\""))
        #expect(text.contains("{\"topic\": \"db\""))
        #expect(text.contains("{\"topic\": \"file-topic\""))
        #expect(text.contains("\"time_ns\": 7"))
        #expect(try batchSizes(receiver).sorted() == [1, 1, 3])
        fixture.finish()
    }

    @Test("PostBodyTooLarge splits a batch in halves until SLS takes them; the group is acknowledged once",
          arguments: [0, 2])
    func splitting(sealingThreads: Int) throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0", "--fault", "toolarge"])
        defer { receiver.stop() }
        let fixture = try Fixture(port: receiver.port, policy: SLSDeliveryPolicy(), sealingThreads: sealingThreads)
        let first = lines(3, from: 0, path: "/a.log")
        let second = lines(2, from: 3, path: "/a.log")
        fixture.flusher.submit(first)
        fixture.flusher.submit(second)
        fixture.flusher.flushAll()
        fixture.run { fixture.acks.groups.count == 2 }
        #expect(Set(fixture.acks.groups) == Set([first, second].map(ObjectIdentifier.init)))
        #expect(try batchSizes(receiver) == [1, 1, 1, 1, 1])
        let text = try receiver.received()
        for index in 0..<5 { #expect(text.contains("\"line \(index)\"")) }
        #expect(fixture.flusher.pendingGroups == 0 && fixture.diagnostics.counters.recordsRejected == 0)
        // The halves were cut from the body sent: the groups' records were gone by then.
        #expect(fixture.acks.finishedReading.count == 2 && fixture.acks.acknowledgedUnread == 0)
        fixture.finish()
    }
}

@Suite("Sealing on worker threads")
struct SealingOrderTests {
    @Test("a file's batches go out in the order they were sealed, whichever thread finished first")
    func order() throws {
        let receiver = try ReceiverProcess(arguments: ["--port", "0"])
        defer { receiver.stop() }
        var policy = SLSDeliveryPolicy()
        policy.maxLogs = 10
        policy.maxConcurrentRequests = 1
        let fixture = try SLSFlusherTests.Fixture(port: receiver.port, policy: policy, sealingThreads: 4)
        // Big and small batches in turn, so that a small one is often sealed before the big one ahead of it.
        var groups: [EventGroup] = []
        var next = 0
        for round in 0..<40 {
            let count = round % 2 == 0 ? 10 : 1
            let padding = round % 2 == 0 ? String(repeating: "x", count: 2_000) : ""
            let group = makeGroup((next..<(next + count)).map { (1_795_744_200, 0, [("content", "line \($0) \(padding)")]) })
            group.source = EventSource(path: "/a.log")
            group.arena.reserveCapacity(EventGroup.storageWorthReleasing)
            next += count
            groups.append(group)
            fixture.flusher.submit(group)
            fixture.flusher.flushAll()
        }
        fixture.run { fixture.acks.groups.count == groups.count }
        #expect(fixture.acks.groups.count == groups.count && fixture.acks.acknowledgedUnread == 0)
        let text = try receiver.received()
        var seen: [Int] = []
        var rest = text[...]
        while let found = rest.firstRange(of: "\"line ") {
            let digits = rest[found.upperBound...].prefix { $0.isNumber }
            seen.append(Int(digits)!)
            rest = rest[found.upperBound...]
        }
        #expect(seen == Array(0..<next), "lines arrived out of order: \(seen.prefix(40))")
        fixture.finish()
    }
}

extension Substring {
    /// How many times `needle` occurs.
    fileprivate func components(_ needle: String) -> Int {
        var count = 0
        var rest = self[...]
        while let index = rest.firstRange(of: needle) {
            count += 1
            rest = rest[index.upperBound...]
        }
        return count
    }
}
