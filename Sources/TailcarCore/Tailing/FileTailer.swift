// FileTailer.swift
//
// One file being tailed for one pipeline input: its identity, where reading stands, the incomplete tail it
// carries between reads, and the queue of offsets waiting for flushers to acknowledge them. Owns the
// per-file state machine (`State`); does not own discovery, the loop, or what happens to lines.
//
// Offsets, for a file of which 100 bytes are read, 90 handed downstream and 60 acknowledged:
//
//   0            60                90        100
//   |--- acked ---|-- in flight ----|- carry -|
//                 ackedOffset     handedOffset readOffset

import Glibc

final class FileTailer {
    enum DrainReason: Equatable { case rotated, deleted, stopping }

    enum State {
        /// Open, and its path still names it.
        case reading(fd: Int32)
        /// Open, but renamed away or deleted: read to its end, then finish.
        case draining(fd: Int32, reason: DrainReason)
        /// Idle: the descriptor is closed; reopened by identity when the file grows.
        case released
        /// Done: nothing more will be read.
        case finished(deleted: Bool)
    }

    /// Changes when offsets restart (truncation), so acknowledgements of older bytes are ignored.
    private(set) var key: FileKey
    var path: String
    let identity: FileIdentity
    var fingerprint: Fingerprint
    var state: State
    var splitter: LineSplitter
    /// Joins lines into multi-line records; nil in single-line mode.
    var framer: MultilineFramer?

    /// Next byte to read from the file.
    private(set) var readOffset: UInt64
    /// Bytes read but not yet handed downstream (an incomplete line).
    private(set) var carry: [UInt8] = []
    /// Everything before this offset is acknowledged by every flusher.
    private(set) var ackedOffset: UInt64
    /// Offsets handed downstream in order, with whether their group is acknowledged.
    private var inFlight: [(offset: UInt64, acknowledged: Bool)] = []
    private var inFlightHead = 0

    /// Loop time (ms) of the last read that returned bytes, or of opening.
    var lastGrowth: UInt64
    /// Whether the last read reached the end of the file.
    var atEnd = false
    /// The largest size a check saw the file at since it last restarted: after a truncation, what the file
    /// held beyond the read offset that only a copy can still give.
    var lastSeenSize: UInt64 = 0
    /// The modification time (ns) a check last saw while the size equalled the read offset.
    var lastSeenModified: Int64 = 0
    /// Set by an inotify event or a poll that saw growth; cleared at end of file.
    var mayHaveData = true

    init(key: FileKey, path: String, identity: FileIdentity, fingerprint: Fingerprint, fd: Int32,
         offset: UInt64, maxLineBytes: Int, now: UInt64) {
        self.key = key
        self.path = path
        self.identity = identity
        self.fingerprint = fingerprint
        self.state = .reading(fd: fd)
        self.splitter = LineSplitter(maxLineBytes: maxLineBytes)
        self.readOffset = offset
        self.ackedOffset = offset
        self.lastGrowth = now
    }

    /// Everything before this offset went downstream: not the carried tail, not an open multi-line record.
    var handedOffset: UInt64 { framer?.pendingStart ?? (readOffset - UInt64(carry.count)) }

    /// Bytes read but not yet handed downstream (a carried tail or an open multi-line record).
    var hasBufferedInput: Bool { !carry.isEmpty || framer?.hasPending == true }

    var descriptor: Int32? {
        switch state {
        case .reading(let fd), .draining(let fd, _): return fd
        case .released, .finished: return nil
        }
    }

    var isFinished: Bool { if case .finished = state { return true } else { return false } }

    var hasUnacknowledged: Bool { ackedOffset < handedOffset || inFlightHead < inFlight.count }

    /// Reads up to the buffer's free space (at most `limit` bytes) after loading the carry. Returns the bytes
    /// read (0 at end of file).
    func read(into buffer: ReadBuffer, limit: Int = .max) throws(SystemError) -> Int {
        guard let fd = descriptor else { return 0 }
        buffer.load(carry: carry)
        let free = buffer.free
        let wanted = min(free.count, limit)
        let offset = readOffset
        let got = try systemCall("pread", path: path) {
            pread(fd, free.baseAddress!, wanted, off_t(offset))
        }
        buffer.count += got
        readOffset += UInt64(got)
        atEnd = got < wanted
        if fingerprint.length < Fingerprint.maxLength, readOffset > UInt64(fingerprint.length) {
            fingerprint = try Fingerprint.read(fd: fd, path: path)
        }
        return got
    }

    /// After splitting: the window's first `consumed` bytes went downstream, the rest is carried.
    func keep(window: UnsafeRawBufferPointer, consumed: Int) {
        carry.removeAll(keepingCapacity: true)
        carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: window[consumed...]))
        splitter.didConsume(consumed)
    }

    /// Drops the carried bytes after they were flushed as an unterminated line.
    func clearCarry() {
        carry.removeAll(keepingCapacity: true)
        splitter.reset()
    }

    /// Restarts at byte 0 (copytruncate or rewrite) under a new key, forgetting what was in flight.
    func restart(newKey: FileKey, fingerprint: Fingerprint) {
        key = newKey
        self.fingerprint = fingerprint
        readOffset = 0
        ackedOffset = 0
        carry.removeAll(keepingCapacity: true)
        splitter.reset()
        framer?.reset()
        inFlight.removeAll(keepingCapacity: true)
        inFlightHead = 0
        atEnd = false
        mayHaveData = true
        lastSeenSize = 0
        lastSeenModified = 0
    }

    /// Records that bytes up to `offset` were handed downstream in a group now in flight.
    func handedDownstream(upTo offset: UInt64) {
        inFlight.append((offset, false))
    }

    /// A group carrying bytes up to `offset` was acknowledged. Returns whether `ackedOffset` advanced.
    func acknowledge(upTo offset: UInt64) -> Bool {
        guard let index = inFlight[inFlightHead...].firstIndex(where: { $0.offset == offset && !$0.acknowledged })
        else { return false }
        inFlight[index].acknowledged = true
        var advanced = false
        while inFlightHead < inFlight.count, inFlight[inFlightHead].acknowledged {
            ackedOffset = inFlight[inFlightHead].offset
            inFlightHead += 1
            advanced = true
        }
        if inFlightHead == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            inFlightHead = 0
        } else if inFlightHead > 64 {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
        return advanced
    }

    /// Closes the descriptor and moves to `next`.
    func closeDescriptor(then next: State) {
        if let fd = descriptor { Glibc.close(fd) }
        state = next
    }
}
