// Agent+Reload.swift
//
// Hot reload of the configuration while running. Every poll tick the pipeline files are stat'ed (following
// symlinks, so a ConfigMap's `..data` swap shows as new inodes); when anything changed, the configuration
// is loaded again and compared with the running one by pipeline name:
//
//   same settings       kept as it is: its tailers, offsets and in-flight groups are untouched
//   removed             retired: no longer read; its sealed groups flushed; once its flushers acknowledged
//                       them (or the stop delay passed) its offsets go to the checkpoints and it closes
//   changed             retired as above, then its replacement starts and claims those checkpoints, so
//                       every file continues at its acknowledged offset (a line cut mid-way is read again)
//   added               starts as at agent start: files that exist now are "existing" (TailSizeKB)
//
// A configuration with errors, or a pipeline that cannot be built, changes nothing (reported). No reload
// starts while a retirement is still waiting. Owns those transitions; loading belongs to ConfigLoader.

import Glibc

/// Where the configuration came from and how to load it again.
public final class ConfigReload {
    let path: String
    let load: () -> ConfigLoadResult
    var stamp: [ConfigFileStamp]

    /// `load` is called on the loop thread whenever the files under `path` change.
    public init(path: String, load: @escaping () -> ConfigLoadResult) {
        self.path = path
        self.load = load
        stamp = ConfigFileStamp.of(path)
    }
}

/// What stat(2) says of one pipeline file, enough to see it replaced or edited.
struct ConfigFileStamp: Equatable {
    var path: String
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: timespec

    static func == (a: ConfigFileStamp, b: ConfigFileStamp) -> Bool {
        a.path == b.path && a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
    }

    /// The pipeline files under `path` as ConfigLoader would pick them, each stat'ed; empty when unreadable.
    static func of(_ path: String) -> [ConfigFileStamp] {
        guard let files = try? ConfigLoader.pipelineFiles(at: path) else { return [] }
        return files.compactMap { file in
            var raw = stat()
            guard stat(file, &raw) == 0 else { return nil }
            return ConfigFileStamp(path: file, device: UInt64(raw.st_dev), inode: UInt64(raw.st_ino),
                                   size: Int64(raw.st_size), modified: raw.st_mtim)
        }
    }
}

/// A pipeline leaving after a reload, and the one that takes its name once it is gone.
struct Retirement {
    let runner: PipelineRunner
    let deadline: UInt64
    let replacement: PipelineRunner?
}

extension Agent {
    /// Reloads when the pipeline files changed since the last look (poll tick, running phase only).
    func checkConfig() {
        applyConsoleIfReady()
        guard let reload = configReload, retiring.isEmpty else { return }
        let stamp = ConfigFileStamp.of(reload.path)
        guard stamp != reload.stamp else { return }
        reload.stamp = stamp
        let result = reload.load()
        for warning in result.warnings { report(.configWarning(warning.description)) }
        for note in result.notes { report(.configNote(note.description)) }
        guard result.errors.isEmpty, let settings = result.settings else {
            let first = result.errors.prefix(5).map(\.description).joined(separator: "; ")
            report(.configReloadFailed(reason: "\(result.errors.count) error(s), the running pipelines stay: \(first)"))
            return
        }
        apply(mergingConsole(settings))
    }

    /// Moves the running pipelines to `settings` (see the file header).
    func apply(_ settings: AgentSettings) {
        var current: [String: PipelineRunner] = [:]
        for runner in pipelines { current[runner.settings.name] = runner }
        var built: [PipelineRunner] = []
        do throws(AgentError) {
            for wanted in settings.pipelines where current[wanted.name]?.settings != wanted {
                built.append(try makeRunner(wanted))
            }
        } catch {
            for runner in built { for flusher in runner.flushers { flusher.close() } }
            report(.configReloadFailed(reason: "\(error.description); the running pipelines stay"))
            return
        }
        for runner in built { context.accommodate(maxLineBytes: runner.settings.inputs.map(\.maxLineBytes).max() ?? 0) }
        let wantedNames = Set(settings.pipelines.map(\.name))
        let removed = pipelines.filter { !wantedNames.contains($0.settings.name) }
        var changed: [String] = []
        var added: [String] = []
        for runner in removed { retire(runner, replacement: nil) }
        for runner in built {
            if let old = current[runner.settings.name] {
                retire(old, replacement: runner)
                changed.append(runner.settings.name)
            } else {
                adopt(runner)
                added.append(runner.settings.name)
            }
        }
        report(.configReloaded(added: added, changed: changed, removed: removed.map(\.settings.name)))
        finishRetirements(force: false)
        discoverAll()
        if anyRunnable() { wakePump() }
    }

    private func retire(_ runner: PipelineRunner, replacement: PipelineRunner?) {
        pipelines.removeAll { $0 === runner }
        // Sealed groups go out; an incomplete line is not sent: its bytes stay unacknowledged and the
        // replacement (or a later pipeline of the same name) reads the line whole.
        runner.flushPending()
        retiring.append(Retirement(runner: runner, deadline: context.now + context.options.stopDelay.milliseconds,
                                   replacement: replacement))
    }

    /// Starts a new pipeline the way the agent starts: an initial scan, then rotated-file recovery.
    private func adopt(_ runner: PipelineRunner) {
        pipelines.append(runner)
        let wasInitial = context.isInitialScan
        context.isInitialScan = true
        for input in runner.inputs {
            _ = input.discover(context)
            input.recoverRotated(context)
        }
        context.isInitialScan = wasInitial
    }

    /// Ends every retirement whose flushers acknowledged everything (or whose deadline passed, or all of
    /// them with `force`): offsets to the checkpoints, descriptors and flushers closed, replacement started
    /// (unless `force`: the agent is finishing).
    func finishRetirements(force: Bool) {
        guard !retiring.isEmpty else { return }
        var waiting: [Retirement] = []
        var finished = false
        for retirement in retiring {
            let runner = retirement.runner
            if !force, runner.pendingGroups > 0, context.now < retirement.deadline {
                runner.flushPending()
                waiting.append(retirement)
                continue
            }
            for input in runner.inputs {
                for tailer in input.tailers {
                    if !tailer.isGone { context.checkpoints.retain(tailer.checkpointEntry(pipeline: runner.settings.name)) }
                    tailer.closeDescriptor(then: .finished(deleted: false))
                }
            }
            for flusher in runner.flushers { flusher.close() }
            if let replacement = retirement.replacement {
                // Also while draining to a tombstone or stopping: the replacement collects what is left.
                if force {
                    for flusher in replacement.flushers { flusher.close() }
                } else {
                    adopt(replacement)
                }
            }
            finished = true
        }
        retiring = waiting
        guard finished else { return }
        saveCheckpointsIfDue(force: true)
        guard !force else { return }
        if case .running = phase { discoverAll() }
        if anyRunnable() { wakePump() }
    }
}

extension FileTailer {
    /// Deleted (draining an unlinked file, or finished after one): no checkpoint is worth keeping.
    var isGone: Bool {
        switch state {
        case .draining(_, let reason): return reason == .deleted
        case .finished(let deleted): return deleted
        case .reading, .released: return false
        }
    }
}
