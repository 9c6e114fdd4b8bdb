// DirectoryWatcher.swift
//
// inotify on every directory a pattern can reach, through one descriptor the loop polls (uv_poll_t). Owns
// the descriptor, the watch descriptors and turning raw events into (directory, name, change); does not
// decide what a change means (Agent+Reading.swift).
//
// Why not uv_fs_event_t: libuv reads its inotify descriptor on every wakeup, so an application writing one
// line per write(2) woke the agent once per line. This watcher can be paused: while paused the loop does
// not poll the descriptor, the kernel queues events and merges each repeated modification of one file into
// the last queued event, and `drain()` later takes the whole queue in one read(2):
//
//   write write write ... write           (paused: the queue holds one IN_MODIFY "app.log")
//   drain() -> onChange(dir, "app.log", .modified) once

import CLibUV
import Glibc

final class DirectoryWatcher: LoopHandle<uv_poll_t> {
    enum Change: Equatable {
        /// Written to, or its attributes changed.
        case modified
        /// Created, deleted, renamed, or the directory itself went away.
        case renamed
        /// The kernel's queue overflowed: any file may have changed.
        case overflowed
    }

    /// Called once per event, on the loop thread; `name` is nil for the directory itself.
    var onChange: (_ directory: String, _ name: String?, _ change: Change) -> Void = { _, _, _ in }
    private let descriptor: Int32
    private var directoryByWatch: [Int32: String] = [:]
    private var watchByDirectory: [String: Int32] = [:]
    private(set) var isPaused = false
    private let events = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
    /// Files whose modification this drain already reported. The kernel merges a repeated event only with
    /// the last one queued, so two files written in turn queue A B A B ...; each is reported once.
    private var modifiedThisDrain: [(watch: Int32, name: String)] = []
    private static let modifiedRemembered = 32

    private static let mask = UInt32(IN_ATTRIB | IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF
                                     | IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO)
    private static let modifiedMask = UInt32(IN_ATTRIB | IN_MODIFY)

    init(loop: EventLoop) throws(LoopError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw LoopError(operation: "inotify_init1", code: -errno) }
        descriptor = fd
        super.init()
        let status = uv_poll_init(loop.raw, pointer, fd)
        if status < 0 {
            discardUninitialised()
            Glibc.close(fd)
            throw LoopError(operation: "uv_poll_init", code: status)
        }
        attach()
        resume()
    }

    deinit { events.deallocate() }

    var watchedDirectories: Int { watchByDirectory.count }

    func isWatching(_ directory: String) -> Bool { watchByDirectory[directory] != nil }

    var directories: Dictionary<String, Int32>.Keys { watchByDirectory.keys }

    /// Adds an inotify watch; fails with ENOSPC when the watch limit is reached.
    func watch(_ directory: String) throws(LoopError) {
        guard watchByDirectory[directory] == nil else { return }
        let watch = inotify_add_watch(descriptor, directory, Self.mask)
        guard watch >= 0 else { throw LoopError(operation: "inotify_add_watch \(directory)", code: -errno) }
        watchByDirectory[directory] = watch
        directoryByWatch[watch] = directory
    }

    func unwatch(_ directory: String) {
        guard let watch = watchByDirectory.removeValue(forKey: directory) else { return }
        directoryByWatch[watch] = nil
        inotify_rm_watch(descriptor, watch)
    }

    /// Stops polling the descriptor: events wait in the kernel's queue (merged where repeated) until
    /// `drain()` or `resume()`.
    func pause() {
        guard !isPaused, !isClosed else { return }
        isPaused = true
        uv_poll_stop(pointer)
    }

    /// Polls the descriptor again; queued events wake the loop at once.
    func resume() {
        guard !isClosed else { return }
        isPaused = false
        uv_poll_start(pointer, Int32(UV_READABLE.rawValue)) { poll, status, _ in
            guard status == 0 else { return }
            DirectoryWatcher.owner(of: UnsafeMutableRawPointer(poll))?.drain()
        }
    }

    /// Reads every queued event and reports each one.
    func drain() {
        modifiedThisDrain.removeAll(keepingCapacity: true)
        while !isClosed {
            let got = Glibc.read(descriptor, events.baseAddress!, events.count)
            guard got > 0 else { return }
            dispatch(UnsafeRawBufferPointer(rebasing: events[..<got]))
            // A read returns every queued event that fits; room for one more of the longest kind left over
            // means the queue was empty (saves a read that would fail with EAGAIN).
            if got < events.count - Self.longestEvent { return }
        }
    }

    /// An event with the longest name: the header, NAME_MAX bytes and the NUL.
    private static let longestEvent = 16 + 255 + 1

    /// `struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }`, back to back.
    private func dispatch(_ bytes: UnsafeRawBufferPointer) {
        var at = 0
        while at + 16 <= bytes.count {
            let watch = bytes.load(fromByteOffset: at, as: Int32.self)
            let mask = bytes.load(fromByteOffset: at + 4, as: UInt32.self)
            let length = Int(bytes.load(fromByteOffset: at + 12, as: UInt32.self))
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[(at + 16)..<min(bytes.count, at + 16 + length)])
            at += 16 + length
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                for directory in watchByDirectory.keys { onChange(directory, nil, .overflowed) }
                continue
            }
            guard let directory = directoryByWatch[watch] else { continue }
            if mask & UInt32(IN_IGNORED) != 0 {
                // The directory was removed (or unwatched): the kernel dropped the watch.
                directoryByWatch[watch] = nil
                watchByDirectory[directory] = nil
            }
            let name = Self.name(nameBytes)
            let change: Change = mask & ~Self.modifiedMask == 0 ? .modified : .renamed
            if change == .modified, let name {
                if modifiedThisDrain.contains(where: { $0.watch == watch && $0.name == name }) { continue }
                if modifiedThisDrain.count < Self.modifiedRemembered { modifiedThisDrain.append((watch, name)) }
            }
            onChange(directory, name, change)
        }
    }

    /// The NUL-padded name of an event, nil when the event is about the directory itself.
    private static func name(_ bytes: UnsafeRawBufferPointer) -> String? {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        guard end > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
    }

    override func close() {
        guard !isClosed else { return }
        super.close()
        Glibc.close(descriptor)
    }
}
