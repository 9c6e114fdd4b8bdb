// EventLoop.swift
//
// The libuv loop that drives one agent: filesystem events, timers, signals and the read pump all run on
// its thread. Owns the uv_loop_t and the libuv error funnel (`uvCheck`); does not own any pipeline state.

import CLibUV
import CTailcarShim

/// A failed libuv call: the operation and libuv's error name and message.
public struct LoopError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32

    public var description: String {
        "\(operation): \(String(cString: uv_err_name(code))) (\(String(cString: uv_strerror(code))))"
    }
}

/// Turns a negative libuv result into a `LoopError` naming the operation.
@inline(__always)
func uvCheck(_ operation: String, _ result: Int32) throws(LoopError) {
    if result < 0 { throw LoopError(operation: operation, code: result) }
}

/// Owns a heap-allocated uv_loop_t. Bound to the thread that runs it.
final class EventLoop {
    let raw: UnsafeMutablePointer<uv_loop_t>

    init() throws(LoopError) {
        raw = .allocate(capacity: 1)
        let status = uv_loop_init(raw)
        if status < 0 {
            raw.deallocate()
            throw LoopError(operation: "uv_loop_init", code: status)
        }
        _ = ctailcar_loop_measure_idle_time(raw)
    }

    /// Nanoseconds the loop has spent idle in its poll since it started (uv_metrics_idle_time).
    var idleNanoseconds: UInt64 { uv_metrics_idle_time(raw) }

    /// The loop's monotonic clock in nanoseconds (uv_hrtime).
    var nowNanoseconds: UInt64 { uv_hrtime() }

    /// Runs until `stop()` or until no active handle is left.
    func run() { uv_run(raw, UV_RUN_DEFAULT) }

    func stop() { uv_stop(raw) }

    /// Runs one non-blocking iteration (tests drive the loop by hand). Returns whether handles remain active.
    @discardableResult
    func runOnce() -> Bool { uv_run(raw, UV_RUN_NOWAIT) != 0 }

    /// The loop's cached monotonic time in milliseconds.
    var nowMilliseconds: UInt64 { uv_now(raw) }

    /// Closes the loop after every handle was closed: runs the loop until close callbacks have freed them.
    func close() {
        uv_run(raw, UV_RUN_DEFAULT)
        if uv_loop_close(raw) == 0 {
            raw.deallocate()
        }
    }
}
