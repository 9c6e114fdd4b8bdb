// Agent+Reading.swift
//
// How changes become reads: the directory watcher's events mark tailers, the ReadScheduler decides when
// the pump runs (after the read delay, at once for a backlog, not while the read-rate limit is spent), and
// the pump reads every marked tailer until it reaches its end. Owns the watch set and the pump's loop;
// what a read does belongs to PipelineRunner, what a change on disk means to InputRunner+Lifecycle.
//
//   write(2) -> inotify -> onDirectoryEvent -> tailer.mayHaveData -> (delay) -> onPump -> PipelineRunner.pump

import Glibc

extension Agent {
    /// inotify saw a create, rename or delete: check tailers and rescan soon (coalesced).
    func onFilesystemChange() {
        rescanScheduled = false
        guard case .running = phase else { return }
        checkAll(stopping: false)
        discoverAll()
        if anyRunnable() { pump.start() }
    }

    /// Reads every tailer that may have data, once each per loop iteration, until each reached its end.
    func onPump() {
        var more = false
        var throttled = false
        pipelines: for pipeline in pipelines where !pipeline.isPaused {
            for input in pipeline.inputs {
                for tailer in input.tailers where tailer.mayHaveData && tailer.descriptor != nil {
                    let now = context.now
                    let limit = scheduler.grant(context.options.readChunkBytes, now: now)
                    guard limit > 0 else { throttled = true; break pipelines }
                    input.verifyBeforeRead(tailer, context)
                    do {
                        let got = try pipeline.pump(tailer, buffer: context.buffer, now: now, limit: limit)
                        scheduler.giveBack(limit - got)
                        if got > 0 { lastActivity = now }
                        if tailer.atEnd { tailer.mayHaveData = false } else { more = true }
                    } catch {
                        scheduler.giveBack(limit)
                        tailer.mayHaveData = false
                        report(.readFailed(error))
                    }
                    if pipeline.isPaused { break }
                }
            }
        }
        // Stopped once every file read reached its end: a pass more would only find them changed by writes
        // the read delay is gathering. Throttled: the scheduler's refill timer starts the pump again.
        if !more || throttled { pump.stop() }
    }

    /// The read delay ended: take the changes queued meanwhile (each is read now).
    func onReadDelayElapsed() {
        watcher?.drain()
        if anyRunnable() { pump.start() }
    }

    // MARK: Watching

    func updateWatches(_ directories: Set<String>) {
        if let watcher {
            for directory in Array(watcher.directories) where !directories.contains(directory) {
                watcher.unwatch(directory)
            }
        }
        guard !pollingOnly else { return }
        let watcher: DirectoryWatcher
        do throws(LoopError) {
            if let existing = self.watcher { watcher = existing } else { watcher = try makeWatcher() }
        } catch {
            report(.watchUnavailable(directory: directories.sorted().first ?? "", reason: error.description))
            pollingOnly = true
            return
        }
        for directory in directories.sorted() where !watcher.isWatching(directory) {
            do throws(LoopError) {
                try watcher.watch(directory)
            } catch {
                report(.watchUnavailable(directory: directory, reason: error.description))
                if error.code == -ENOSPC || error.code == -EMFILE { pollingOnly = true }
                return
            }
        }
    }

    private func makeWatcher() throws(LoopError) -> DirectoryWatcher {
        let watcher = try DirectoryWatcher(loop: loop)
        watcher.onChange = { [unowned self] directory, name, change in
            self.onDirectoryEvent(directory, name, change)
        }
        self.watcher = watcher
        return watcher
    }

    var watchedDirectories: Int { watcher?.watchedDirectories ?? 0 }

    private func onDirectoryEvent(_ directory: String, _ name: String?, _ change: DirectoryWatcher.Change) {
        let path = name.map { directory == "/" ? "/" + $0 : directory + "/" + $0 }
        switch change {
        case .overflowed:
            // Events were lost: any file may have grown.
            for pipeline in pipelines {
                for input in pipeline.inputs {
                    for tailer in input.tailers { tailer.mayHaveData = true }
                }
            }
            pump.start()
        case .modified:
            guard let path else { break }
            if fileModified(path) { return }
        case .renamed:
            break
        }
        lastActivity = context.now
        scheduleRescan()
    }

    /// Marks the tailers of `path` and starts the pump now or after the read delay. Returns true when the
    /// change needs no rescan (writes to files no pattern names, such as a flusher's own output, are not
    /// activity either).
    private func fileModified(_ path: String) -> Bool {
        var known = false
        var wanted = false
        var readNow = false
        for pipeline in pipelines {
            for input in pipeline.inputs {
                if let tailer = input.tailer(at: path) {
                    known = true
                    if scheduler.fileChanged(tailer) {
                        tailer.mayHaveData = true
                        readNow = true
                    }
                } else if input.matcher.wantsFile(path) {
                    wanted = true
                }
            }
        }
        if known {
            lastActivity = context.now
            if readNow { pump.start() } else if scheduler.isDelaying { watcher?.pause() }
        }
        return !wanted
    }

    /// Coalesces bursts of create/rename events into one check-and-scan 10 ms after the first.
    func scheduleRescan() {
        guard !rescanScheduled else { return }
        rescanScheduled = true
        soon.start(afterMilliseconds: 10)
    }
}
