// InputRunner.swift
//
// One `input_file` of one pipeline at run time: finds the files its patterns name, opens a tailer for each
// at the right offset, and keeps those tailers honest against the filesystem (rotation, truncation,
// deletion, idle release and reopening) through InputRunner+Lifecycle.swift. Owns the path and identity
// maps; does not read files (PipelineRunner pumps them).

import Glibc

final class InputRunner {
    let settings: FileInputSettings
    let matcher: PathMatcher
    unowned let pipeline: PipelineRunner
    private(set) var tailers: [FileTailer] = []
    var byPath: [String: FileTailer] = [:]
    private(set) var byIdentity: [FileIdentity: FileTailer] = [:]
    private var reportedErrors: Set<String> = []
    /// Files that could not be opened (permissions), reported once each and retried at every scan.
    private var unopenable: Set<FileIdentity> = []
    /// Files forgotten lately (finished files, drained copies), by identity and first bytes: no copytruncate copy.
    private(set) var recentlyTailed: [(identity: FileIdentity, fingerprint: Fingerprint)] = []
    static let recentlyTailedLimit = 256
    /// Directory listings from earlier scans, reused while a directory is unchanged.
    private var listings = DirectoryListingCache()

    /// How lines join into records; nil in single-line mode.
    let multiline: MultilineRules?

    init(settings: FileInputSettings, pipeline: PipelineRunner, multiline: MultilineRules? = nil) throws(GlobError) {
        self.settings = settings
        self.pipeline = pipeline
        self.multiline = multiline
        matcher = try PathMatcher(filePaths: settings.filePaths, excludeFilePaths: settings.excludeFilePaths,
                                  maxDirSearchDepth: settings.maxDirSearchDepth)
    }

    func owns(_ tailer: FileTailer) -> Bool { byIdentity[tailer.identity] === tailer }

    /// Scans the patterns, opens every new file, and returns the directories that must be watched.
    func discover(_ context: AgentContext) -> [String] {
        let scan = matcher.scan(reusing: &listings)
        for error in scan.errors where !error.isNotFound {
            if reportedErrors.insert(error.description).inserted {
                context.diagnostics.record(.discoveryFailed(error))
            }
        }
        for path in scan.files where byPath[path] == nil {
            open(path, context)
        }
        return scan.directories
    }

    /// At start: a checkpointed file that rotation renamed to a name no pattern matches, and that has bytes
    /// past its acknowledged offset, is drained from there (the agent stopped before it saw the rename).
    func recoverRotated(_ context: AgentContext) {
        for entry in context.checkpoints.unclaimed(pipeline: pipeline.settings.name)
        where byIdentity[entry.identity] == nil {
            guard let directory = parentDirectory(entry.path), matcher.wantsDirectory(directory),
                  let path = findSibling(with: entry.identity, in: directory),
                  let fd = try? systemCall("open", path: path, { Glibc.open(path, O_RDONLY | O_CLOEXEC) })
            else { continue }
            guard let status = try? FileStatus.of(fd: fd, path: path), status.identity == entry.identity,
                  status.size > entry.offset, entry.fingerprint.length > 0,
                  (try? entry.fingerprint.matches(fd: fd, path: path)) == true
            else { Glibc.close(fd); continue }
            context.checkpoints.take(entry)
            let tailer = FileTailer(key: context.makeKey(), path: path, identity: entry.identity,
                                    fingerprint: entry.fingerprint, fd: fd, offset: entry.offset,
                                    maxLineBytes: settings.maxLineBytes, now: context.now)
            tailer.state = .draining(fd: fd, reason: .rotated)
            add(tailer, indexPath: false)
            context.diagnostics.record(.fileReopened(path: path, offset: entry.offset))
        }
    }

    /// Whether a tailer for this path exists (inotify routing).
    func tailer(at path: String) -> FileTailer? { byPath[path] }

    private func open(_ path: String, _ context: AgentContext) {
        let fd: Int32
        do throws(SystemError) {
            fd = try systemCall("open", path: path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        } catch {
            guard !error.isNotFound else { return }
            // Once per file: the scan retries it every tick, and a log line a tick would drown the others.
            let identity = (try? FileStatus.of(path: path))?.identity
            if let identity, !unopenable.insert(identity).inserted { return }
            context.diagnostics.record(.readFailed(error))
            return
        }
        do throws(SystemError) {
            let status = try FileStatus.of(fd: fd, path: path)
            guard status.isRegularFile else { Glibc.close(fd); return }
            unopenable.remove(status.identity)
            if let known = byIdentity[status.identity], !known.isFinished {
                // The same file under a second matching name (renamed app.log -> app.log.1 with app.log*).
                Glibc.close(fd)
                if byPath[known.path] === known { byPath[known.path] = nil }
                known.path = path
                byPath[path] = known
                return
            }
            let fingerprint = try Fingerprint.read(fd: fd, path: path)
            let (offset, start) = startOffset(fd: fd, path: path, status: status, context)
            let tailer = FileTailer(key: context.makeKey(), path: path, identity: status.identity,
                                    fingerprint: fingerprint, fd: fd, offset: offset,
                                    maxLineBytes: settings.maxLineBytes, now: context.now)
            add(tailer)
            context.diagnostics.record(.fileOpened(path: path, offset: offset, start: start))
        } catch {
            Glibc.close(fd)
            context.diagnostics.record(.readFailed(error))
        }
    }

    /// Where a newly opened file starts: its checkpoint; else byte 0 for a file created after start;
    /// else (it existed at start) 0 with TailingAllMatchedFiles, or its last TailSizeKB aligned to a line.
    private func startOffset(fd: Int32, path: String, status: FileStatus, _ context: AgentContext)
        -> (UInt64, TailStart) {
        switch context.checkpoints.claim(pipeline: pipeline.settings.name, identity: status.identity, fd: fd, path: path) {
        case .resume(let entry) where entry.offset > status.size:
            context.diagnostics.record(.fileTruncated(path: path, size: status.size, offset: entry.offset))
            drainCopy(of: path, identity: status.identity, fingerprint: entry.fingerprint, from: entry.offset,
                      seenSize: entry.offset, context)
            return (0, .checkpoint)
        case .resume(let entry):
            return (entry.offset, .checkpoint)
        case .rewritten(let entry):
            context.diagnostics.record(.fileRewritten(path: path))
            drainCopy(of: path, identity: status.identity, fingerprint: entry.fingerprint, from: entry.offset,
                      seenSize: entry.offset, context)
            return (0, .checkpoint)
        case .none:
            break
        }
        if !context.isInitialScan { return (0, .newFile) }
        if settings.tailingAllMatchedFiles { return (0, .existingAll) }
        let tailSize = UInt64(settings.tailSizeBytes)
        if status.size <= tailSize && tailSize > 0 { return (0, .existingTail) }
        return (lineStart(fd: fd, from: status.size - tailSize, size: status.size), .existingTail)
    }

    /// The offset just after the first newline at or after `from` (within 128 KiB), else `from`.
    private func lineStart(fd: Int32, from: UInt64, size: UInt64) -> UInt64 {
        guard from > 0, from < size else { return from }
        let window = Int(min(UInt64(128 << 10), size - from + 1))
        var bytes = [UInt8](repeating: 0, count: window)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, window, off_t(from - 1)) }
        guard got > 0, let newline = bytes[0..<got].firstIndex(of: 0x0A) else { return from }
        return from - 1 + UInt64(newline) + 1
    }

    func add(_ tailer: FileTailer, indexPath: Bool = true) {
        tailer.framer = multiline.map(MultilineFramer.init(rules:))
        tailers.append(tailer)
        if indexPath { byPath[tailer.path] = tailer }
        byIdentity[tailer.identity] = tailer
        pipeline.register(tailer)
        // Record the new identity soon, so a rotation before the first acknowledgement is recoverable.
        pipeline.checkpointDirty = true
    }

    /// Forgets a finished tailer whose every byte is acknowledged.
    func remove(_ tailer: FileTailer) {
        rememberTailed(tailer.identity, tailer.fingerprint)
        tailers.removeAll { $0 === tailer }
        if byPath[tailer.path] === tailer { byPath[tailer.path] = nil }
        if byIdentity[tailer.identity] === tailer { byIdentity[tailer.identity] = nil }
        pipeline.unregister(tailer)
    }

    /// Keeps `identity` among the files lately tailed or found to be copies with nothing left to read.
    func rememberTailed(_ identity: FileIdentity, _ fingerprint: Fingerprint) {
        recentlyTailed.append((identity, fingerprint))
        if recentlyTailed.count > Self.recentlyTailedLimit { recentlyTailed.removeFirst() }
    }

    /// Re-keys a tailer whose offsets restarted (acknowledgements of the old key are then ignored).
    func rekey(_ tailer: FileTailer, to key: FileKey, fingerprint: Fingerprint) {
        pipeline.unregister(tailer)
        tailer.restart(newKey: key, fingerprint: fingerprint)
        pipeline.register(tailer)
    }
}
