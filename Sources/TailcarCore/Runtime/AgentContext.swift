// AgentContext.swift
//
// What every part of a running agent shares on the loop thread: the clock, the diagnostics funnel, the
// checkpoint keeper, the shared read buffer, file-key numbering and the options. Owns no files.

final class AgentContext {
    let options: AgentOptions
    let diagnostics: Diagnostics
    let checkpoints: CheckpointKeeper
    /// Replaced (never while a read is in progress) when a reload brings longer lines; see `accommodate`.
    private(set) var buffer: ReadBuffer
    private let clock: () -> UInt64
    private var nextKey: UInt64 = 1
    /// True until the first discovery finished: files found then existed before the agent started.
    var isInitialScan = true

    /// `clock` gives monotonic milliseconds: the loop's time when running, a test's own when driven by hand.
    init(options: AgentOptions, diagnostics: Diagnostics, checkpoints: CheckpointKeeper,
         clock: @escaping () -> UInt64, maxLineBytes: Int) {
        self.options = options
        self.diagnostics = diagnostics
        self.checkpoints = checkpoints
        self.clock = clock
        buffer = ReadBuffer(readChunk: options.readChunkBytes, maxCarry: maxLineBytes)
    }

    /// Grows the shared read buffer when a pipeline added by a reload allows longer lines than any before:
    /// a tailer's carried tail must always fit beside a read chunk.
    func accommodate(maxLineBytes: Int) {
        guard maxLineBytes > buffer.capacity - options.readChunkBytes else { return }
        buffer = ReadBuffer(readChunk: options.readChunkBytes, maxCarry: maxLineBytes)
    }

    /// Monotonic milliseconds (the loop's cached time while running).
    var now: UInt64 { clock() }

    func makeKey() -> FileKey {
        defer { nextKey += 1 }
        return FileKey(raw: nextKey)
    }
}
