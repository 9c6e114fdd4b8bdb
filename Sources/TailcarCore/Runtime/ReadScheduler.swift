// ReadScheduler.swift
//
// When the read pump may run and how much it may read. Owns the shared read delay, the read-at-once
// threshold and the read-rate limit (a token bucket over every input) with their two timers; does not read
// files (Agent+Reading.swift) nor watch directories (DirectoryWatcher).
//
// An application writing line by line changes its file thousands of times a second. The first change
// arms one delay for the whole agent and the watcher pauses; when the delay ends, the queued changes are
// taken in one go and every changed file is read once. While files keep changing, the next delay starts
// at once and the watcher stays paused: a steady writer costs one timer wakeup per delay, nothing per write.
//
//   t=0 change: arm, pause | t=0..50 writes queue as one event | t=50 drain, read, re-arm | t=100 none: watch
//
// A file with `readAtOnceBytes` or more waiting when its first change arrives is read at once; while the
// watcher is paused a burst waits at most one delay, and the pump then reads it to its end in full chunks,
// so a backlog loses no throughput.

import Glibc

final class ReadScheduler {
    enum DelayState {
        /// No read is waiting: the next change arms the delay.
        case idle
        /// A delay is running; changes until it ends are read together.
        case delaying
        /// The delay ended and the queued changes are being taken: each is read now.
        case delivering
    }

    let delayMilliseconds: UInt64
    let readAtOnceBytes: UInt64
    private(set) var delayState = DelayState.idle
    private let delayTimer: LoopTimer
    /// Files whose change armed or joined the running delay: marked readable when it ends.
    private var waiting: [FileTailer] = []
    private var bucket: TokenBucket?
    private let refillTimer: LoopTimer
    private var refillArmed = false
    /// The delay ended: take the queued changes (calling `fileChanged` for each), then read.
    var onDelayElapsed: () -> Void = {}
    /// A delay ended with no change queued: watch again, so the next change is seen when it happens.
    var onQuiet: () -> Void = {}
    /// Changes of tailed files taken when the delay ended: any means the files are still being written.
    private var changesDelivered = 0
    /// The bucket refilled after refusing: reading may go on.
    var onRefilled: () -> Void = {}

    init(loop: EventLoop, options: AgentOptions, now: UInt64) throws(LoopError) {
        delayMilliseconds = options.readDelay.milliseconds
        readAtOnceBytes = UInt64(max(0, options.readAtOnceBytes))
        bucket = options.maxReadBytesPerSecond.map { TokenBucket(bytesPerSecond: $0, now: now) }
        delayTimer = try LoopTimer(loop: loop)
        refillTimer = try LoopTimer(loop: loop)
        delayTimer.onFire = { [unowned self] in self.delayElapsed() }
        refillTimer.onFire = { [unowned self] in
            self.refillArmed = false
            self.onRefilled()
        }
    }

    /// A watched file changed. Returns whether to read it now; otherwise it is marked readable when the
    /// delay (armed here if none runs) ends. Until then a pump pass for other files leaves it alone.
    func fileChanged(_ tailer: FileTailer) -> Bool {
        switch delayState {
        case .delivering:
            changesDelivered += 1
            return true
        case .idle, .delaying:
            if delayMilliseconds == 0 || bytesWaiting(tailer) >= readAtOnceBytes { return true }
            waiting.append(tailer)
            if case .idle = delayState {
                delayState = .delaying
                delayTimer.start(afterMilliseconds: delayMilliseconds)
            }
            return false
        }
    }

    var isDelaying: Bool { if case .delaying = delayState { return true } else { return false } }

    private func delayElapsed() {
        for tailer in waiting { tailer.mayHaveData = true }
        waiting.removeAll(keepingCapacity: true)
        delayState = .delivering
        changesDelivered = 0
        onDelayElapsed()
        if changesDelivered > 0 {
            delayState = .delaying
            delayTimer.start(afterMilliseconds: delayMilliseconds)
        } else {
            delayState = .idle
            onQuiet()
        }
    }

    /// Bytes past the read offset, from one fstat; 0 when the file is not open.
    private func bytesWaiting(_ tailer: FileTailer) -> UInt64 {
        guard let fd = tailer.descriptor, readAtOnceBytes > 0 else { return 0 }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return 0 }
        let size = UInt64(max(0, status.st_size))
        return size > tailer.readOffset ? size - tailer.readOffset : 0
    }

    // MARK: Read-rate limit

    /// How many of `wanted` bytes the next read may take. 0: the limit is reached; the refill timer is armed
    /// and `onRefilled` says when to go on.
    func grant(_ wanted: Int, now: UInt64) -> Int {
        guard bucket != nil else { return wanted }
        let granted = bucket!.take(upTo: wanted, now: now)
        if granted == 0, !refillArmed {
            refillArmed = true
            // Wait for a useful amount rather than a few bytes: up to 64 KiB, or the whole bucket if smaller.
            refillTimer.start(afterMilliseconds: bucket!.millisecondsUntil(64 << 10, now: now))
        }
        return granted
    }

    /// Returns the part of a grant a read did not use.
    func giveBack(_ unused: Int) {
        guard unused > 0, bucket != nil else { return }
        bucket!.giveBack(unused)
    }

    /// Time the read-rate limit held reading back.
    func throttledMilliseconds(now: UInt64) -> UInt64 { bucket?.throttledMilliseconds(now: now) ?? 0 }

    func close() {
        delayTimer.close()
        refillTimer.close()
    }
}
