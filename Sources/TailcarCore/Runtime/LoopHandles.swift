// LoopHandles.swift
//
// The libuv handles Tailcar uses (timer, signal, idle, async; the inotify poll is DirectoryWatcher.swift), each
// owned by a small class that follows one lifetime: the handle lives on the heap, `handle->data` points at its owner, C callbacks capture
// nothing and recover the owner through `Unmanaged`, and the memory is freed only in the close callback.
// An owner that goes away without `close()` detaches itself (data = nil) and closes the handle.

import CLibUV

/// The shared part: heap storage for one handle of type H and its close protocol.
class LoopHandle<H> {
    let pointer: UnsafeMutablePointer<H>
    private(set) var isClosed = false

    init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<H>.size,
                                                   alignment: MemoryLayout<H>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<H>.size)
        pointer = raw.bindMemory(to: H.self, capacity: 1)
    }

    var handle: UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: uv_handle_t.self)
    }

    /// Call right after the uv_*_init call succeeded.
    func attach() { handle.pointee.data = Unmanaged.passUnretained(self).toOpaque() }

    /// Closes the handle; libuv frees nothing, the close callback deallocates the storage.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        handle.pointee.data = nil
        uv_close(handle) { closing in
            UnsafeMutableRawPointer(closing!).deallocate()
        }
    }

    /// Storage for a handle whose init failed: libuv never saw it.
    func discardUninitialised() {
        isClosed = true
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    deinit { close() }

    static func owner(of handle: UnsafeMutableRawPointer?) -> Self? {
        guard let handle else { return nil }
        let base = handle.assumingMemoryBound(to: uv_handle_t.self)
        guard let data = base.pointee.data else { return nil }
        return Unmanaged<Self>.fromOpaque(data).takeUnretainedValue()
    }
}

/// uv_timer_t: fires `onFire` after a delay, optionally repeating.
final class LoopTimer: LoopHandle<uv_timer_t> {
    var onFire: () -> Void = {}

    init(loop: EventLoop) throws(LoopError) {
        super.init()
        let status = uv_timer_init(loop.raw, pointer)
        if status < 0 { discardUninitialised(); throw LoopError(operation: "uv_timer_init", code: status) }
        attach()
    }

    func start(afterMilliseconds delay: UInt64, repeatMilliseconds: UInt64 = 0) {
        uv_timer_start(pointer, { timer in
            LoopTimer.owner(of: UnsafeMutableRawPointer(timer))?.onFire()
        }, delay, repeatMilliseconds)
    }

    func stop() { if !isClosed { uv_timer_stop(pointer) } }
}

/// uv_signal_t: calls `onSignal` on the loop thread when the process receives the signal.
final class LoopSignal: LoopHandle<uv_signal_t> {
    var onSignal: (Int32) -> Void = { _ in }

    init(loop: EventLoop) throws(LoopError) {
        super.init()
        let status = uv_signal_init(loop.raw, pointer)
        if status < 0 { discardUninitialised(); throw LoopError(operation: "uv_signal_init", code: status) }
        attach()
    }

    func start(signal number: Int32) throws(LoopError) {
        try uvCheck("uv_signal_start", uv_signal_start(pointer, { signal, number in
            LoopSignal.owner(of: UnsafeMutableRawPointer(signal))?.onSignal(number)
        }, number))
    }
}

/// uv_idle_t: runs `onIdle` once per loop iteration while started (the read pump).
final class LoopIdle: LoopHandle<uv_idle_t> {
    var onIdle: () -> Void = {}
    private(set) var isActive = false

    init(loop: EventLoop) throws(LoopError) {
        super.init()
        let status = uv_idle_init(loop.raw, pointer)
        if status < 0 { discardUninitialised(); throw LoopError(operation: "uv_idle_init", code: status) }
        attach()
    }

    func start() {
        guard !isActive, !isClosed else { return }
        isActive = true
        uv_idle_start(pointer) { idle in
            LoopIdle.owner(of: UnsafeMutableRawPointer(idle))?.onIdle()
        }
    }

    func stop() {
        guard isActive, !isClosed else { return }
        isActive = false
        uv_idle_stop(pointer)
    }
}

/// uv_async_t: `wake()` may be called from any thread; `onWake` then runs on the loop thread (several wakes
/// before it runs may be folded into one).
final class LoopAsync: LoopHandle<uv_async_t> {
    var onWake: () -> Void = {}

    init(loop: EventLoop) throws(LoopError) {
        super.init()
        let status = uv_async_init(loop.raw, pointer) { async in
            LoopAsync.owner(of: UnsafeMutableRawPointer(async))?.onWake()
        }
        if status < 0 { discardUninitialised(); throw LoopError(operation: "uv_async_init", code: status) }
        attach()
    }

    /// What another thread holds to wake the loop: valid until `close()`, which the owner calls only after
    /// every thread that could wake it has stopped.
    var waker: LoopWaker { LoopWaker(handle: pointer) }
}

/// A handle to wake a `LoopAsync` from another thread.
struct LoopWaker: @unchecked Sendable {
    let handle: UnsafeMutablePointer<uv_async_t>

    func wake() { uv_async_send(handle) }
}
