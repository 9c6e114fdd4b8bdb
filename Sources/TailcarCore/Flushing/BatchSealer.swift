// BatchSealer.swift
//
// Turns a batch into a PutLogs body: encodes the LogGroup straight from the groups' arenas, compresses it
// into per-thread scratch, copies it once behind headroom into the block that is later written to the
// socket (the request line and headers go into the headroom when it is sent), and computes Content-MD5.
// This is most of the CPU of shipping, so it runs on worker threads when the container has more than one
// CPU (HostIdentity.workerThreads), and inline on the loop when it has one or less (no thread overhead).
// Owns the threads, their encoders and compressors, and the hand-back to the loop; does not own batching,
// order or delivery (SLSFlusher).
//
//   loop: seal(job) ─▶ [pending] ─▶ worker: encode ▸ compress ▸ copy ▸ MD5 ─▶ [finished] ─wake─▶ loop: job.onSealed
//
// A job reads its groups while the loop thread only reads them too: a group is not changed or reused
// until every flusher acknowledged it, which is after its batch was sealed and delivered.

import CTailcarShim
import Glibc

/// One batch to seal. The inputs are set on the loop thread; `body` is written by the thread that runs
/// the job and read on the loop thread only after `onSealed`.
final class SealJob: @unchecked Sendable {
    struct Codec: Hashable {
        var algorithm: BodyCompression
        var zstdLevel: Int32
        var lz4Acceleration: Int32
    }

    /// What the LogGroup is made from: records in the groups' arenas (`logBytes`, when known, saves a
    /// sizing pass), or an already encoded LogGroup (half of a batch SLS found too large).
    enum Input {
        case records([RecordSlice], LogGroupMeta, logBytes: Int?)
        case encoded([UInt8])
    }

    let input: Input
    let codec: Codec
    /// Runs on the loop thread once `body` is set.
    var onSealed: (SealJob) -> Void = { _ in }
    private(set) var body: SealedBody?

    init(_ input: Input, codec: Codec) {
        self.input = input
        self.codec = codec
    }

    /// Encodes, compresses and hashes; on a compression failure (never expected: lz4 refuses only inputs
    /// over 2 GB) the body goes out uncompressed and `compressionFailure` says why.
    func run(in workspace: SealWorkspace) {
        let started = threadCPUNanoseconds()
        let rawSize: Int
        switch input {
        case .records(let slices, let meta, let logBytes):
            rawSize = workspace.encoder.encode(slices: slices, meta: meta, logBytes: logBytes)
        case .encoded(let logGroup):
            rawSize = logGroup.count
        }
        let encoded = threadCPUNanoseconds()
        var compression = codec.algorithm
        var failure: String?
        let compress = { (raw: UnsafeRawBufferPointer) -> OutgoingBytes in
            let compressor = workspace.compressor(for: self.codec)
            let bound = compressor.bound(forInput: raw.count)
            workspace.reserveScratch(bound)
            do {
                let count = try compressor.compress(raw, into: UnsafeMutableRawBufferPointer(start: workspace.scratch,
                                                                                             count: bound))
                return SealedBody.block(copying: UnsafeRawBufferPointer(start: workspace.scratch, count: count))
            } catch {
                failure = "compression failed, sending uncompressed: \(error)"
                compression = .none
                return SealedBody.block(copying: raw)
            }
        }
        let block: OutgoingBytes
        switch input {
        case .records: block = workspace.encoder.withEncoded(compress)
        case .encoded(let logGroup): block = logGroup.withUnsafeBytes(compress)
        }
        let compressed = threadCPUNanoseconds()
        let md5 = SLSSigner.contentMD5(UnsafeRawBufferPointer(start: block.base + SealedBody.headroom,
                                                              count: block.capacity - SealedBody.headroom))
        let hashed = threadCPUNanoseconds()
        body = SealedBody(block: block, rawSize: rawSize, compression: compression, contentMD5: md5,
                          compressionFailure: failure,
                          cpuNanoseconds: SealingCPUTime(encode: encoded &- started, compress: compressed &- encoded,
                                                         hash: hashed &- compressed))
    }
}

/// CPU time one batch's sealing took, by stage.
public struct SealingCPUTime: Sendable {
    public var encode: UInt64
    public var compress: UInt64
    public var hash: UInt64
}

/// This thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a stage is measured on whichever thread runs it.
private func threadCPUNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A sealed LogGroup: the compressed body behind `headroom` bytes kept free for the request's head.
struct SealedBody {
    /// Room for the request line and headers (an STS token alone may take 1-2 KiB).
    static let headroom = 4096

    var block: OutgoingBytes
    let rawSize: Int
    let compression: BodyCompression
    let contentMD5: String
    let compressionFailure: String?
    let cpuNanoseconds: SealingCPUTime

    var bodyCount: Int { block.capacity - Self.headroom }

    /// The body's bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: block.base + Self.headroom, count: bodyCount) }

    static func block(copying body: UnsafeRawBufferPointer) -> OutgoingBytes {
        let block = OutgoingBytes(capacity: headroom + body.count)
        if let source = body.baseAddress { (block.base + headroom).copyMemory(from: source, byteCount: body.count) }
        return block
    }

    /// Writes `head` (request line and headers) right before the body and returns the block ready to send;
    /// a head larger than the headroom gets a new block with both (a copy, and never expected).
    func request(head: [UInt8]) -> OutgoingBytes {
        guard head.count <= Self.headroom else {
            let whole = OutgoingBytes(capacity: head.count + bodyCount)
            head.withUnsafeBytes { whole.base.copyMemory(from: $0.baseAddress!, byteCount: head.count) }
            (whole.base + head.count).copyMemory(from: block.base + Self.headroom, byteCount: bodyCount)
            whole.setStart(0)
            return whole
        }
        let start = Self.headroom - head.count
        head.withUnsafeBytes { (block.base + start).copyMemory(from: $0.baseAddress!, byteCount: head.count) }
        block.setStart(start)
        return block
    }
}

/// What one sealing thread keeps between jobs: the LogGroup buffer, the compression scratch and one
/// compressor per codec in use.
final class SealWorkspace {
    var encoder = LogGroupEncoder(initialCapacity: 0, includeNanoseconds: true)
    private(set) var scratch: UnsafeMutableRawPointer?
    private var scratchCapacity = 0
    private var compressors: [SealJob.Codec: Compressor] = [:]

    deinit { free(scratch) }

    func compressor(for codec: SealJob.Codec) -> Compressor {
        if let found = compressors[codec] { return found }
        let made = Compressor(codec.algorithm, zstdLevel: codec.zstdLevel, lz4Acceleration: codec.lz4Acceleration)
        compressors[codec] = made
        return made
    }

    func reserveScratch(_ bytes: Int) {
        guard bytes > scratchCapacity else { return }
        free(scratch)
        scratchCapacity = max(bytes, 64 << 10)
        scratch = malloc(scratchCapacity)
    }
}

/// Seals jobs inline on the loop when `threads` is 0; otherwise on `threads` worker threads while the loop
/// is busy (a backlog: it spent more than half of the last 20 ms working), and still inline while it is
/// mostly idle (a live tail: handing a batch to another core costs more CPU than it saves there). Once the
/// threads took over, the loop itself only reads and sends (a third of the work, and it waits whenever
/// the flusher is saturated), so its share says little: batches keep going to the threads while they are
/// still sealing earlier ones, which in a backlog is always, and in a live tail almost never.
final class BatchSealer {
    let threads: Int
    private let loop: EventLoop
    private let inline = SealWorkspace()
    private let queue: SealQueue?
    private let wakeup: LoopAsync?
    private var workers: [pthread_t] = []
    /// The loop's clock and idle time when the current measuring window began, and the last verdict.
    private var window: (start: UInt64, idle: UInt64)
    private(set) var loopIsBusy = false

    /// How long a window of the loop's busy share is, and the share above which batches go to the threads.
    static let windowNanoseconds: UInt64 = 20_000_000
    static let busyShare = 0.5
    /// Jobs handed to the threads whose `onSealed` has not run yet.
    private(set) var jobsOnThreads = 0

    init(loop: EventLoop, threads: Int) throws(LoopError) {
        self.threads = threads
        self.loop = loop
        window = (loop.nowNanoseconds, loop.idleNanoseconds)
        guard threads > 0 else {
            queue = nil
            wakeup = nil
            return
        }
        ctailcar_use_one_malloc_arena()
        let wakeup = try LoopAsync(loop: loop)
        let queue = SealQueue(waker: wakeup.waker)
        self.queue = queue
        self.wakeup = wakeup
        wakeup.onWake = { [unowned self, unowned queue] in
            for job in queue.takeFinished() {
                jobsOnThreads -= 1
                job.onSealed(job)
            }
        }
        for _ in 0..<threads {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(queue).toOpaque()
            let status = pthread_create(&thread, nil, { context in
                let queue = Unmanaged<SealQueue>.fromOpaque(context!).takeRetainedValue()
                queue.work()
                return nil
            }, context)
            guard status == 0 else {
                Unmanaged<SealQueue>.fromOpaque(context).release()
                shutDown()
                throw LoopError(operation: "pthread_create (sealing thread)", code: -status)
            }
            workers.append(thread)
        }
    }

    deinit { shutDown() }

    /// Seals `job`; `job.onSealed` runs on the loop thread, before this returns when sealing is inline.
    func seal(_ job: SealJob) {
        if let queue, jobsOnThreads > 0 || measureLoop() {
            jobsOnThreads += 1
            queue.push(job)
        } else {
            job.run(in: inline)
            job.onSealed(job)
        }
    }

    /// Whether the loop was busy over the last complete window.
    private func measureLoop() -> Bool {
        let now = loop.nowNanoseconds
        let elapsed = now &- window.start
        guard elapsed >= Self.windowNanoseconds else { return loopIsBusy }
        let idle = loop.idleNanoseconds
        let busy = 1 - Double(min(idle &- window.idle, elapsed)) / Double(elapsed)
        loopIsBusy = busy > Self.busyShare
        window = (now, idle)
        return loopIsBusy
    }

    /// Stops the threads after the job each is running; jobs still waiting are dropped unsealed (their
    /// flushers are closed by then). The loop's wake-up handle is closed last, when no thread can use it.
    func shutDown() {
        guard let queue, let wakeup, !wakeup.isClosed else { return }
        queue.stop()
        for thread in workers { pthread_join(thread, nil) }
        workers = []
        wakeup.close()
    }
}

/// The jobs between the loop and the workers, behind one mutex.
private final class SealQueue: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let jobWaiting = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let waker: LoopWaker
    private var pending = FIFOQueue<SealJob>()
    private var finished: [SealJob] = []
    private var stopping = false

    init(waker: LoopWaker) {
        self.waker = waker
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(jobWaiting, nil)
    }

    deinit {
        pthread_cond_destroy(jobWaiting)
        pthread_mutex_destroy(mutex)
        jobWaiting.deallocate()
        mutex.deallocate()
    }

    func push(_ job: SealJob) {
        pthread_mutex_lock(mutex)
        pending.pushBack(job)
        pthread_cond_signal(jobWaiting)
        pthread_mutex_unlock(mutex)
    }

    func takeFinished() -> [SealJob] {
        pthread_mutex_lock(mutex)
        let taken = finished
        finished = []
        pthread_mutex_unlock(mutex)
        return taken
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(jobWaiting)
        pthread_mutex_unlock(mutex)
    }

    /// A worker thread's life: take a job, seal it, hand it back, until stopped.
    func work() {
        ctailcar_name_thread("tailcar-seal")
        let workspace = SealWorkspace()
        while let job = next() {
            job.run(in: workspace)
            pthread_mutex_lock(mutex)
            finished.append(job)
            pthread_mutex_unlock(mutex)
            waker.wake()
        }
    }

    private func next() -> SealJob? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while pending.isEmpty && !stopping { pthread_cond_wait(jobWaiting, mutex) }
        return stopping ? nil : pending.popFront()
    }
}
