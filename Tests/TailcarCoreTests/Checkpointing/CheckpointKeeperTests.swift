// CheckpointKeeperTests.swift
//
// Saving when the checkpoint directory cannot hold the file: the keeper counts every failed save, logs
// the first and then one a minute, reports `failing` until a save works, and that save logs the recovery.
import Glibc
import Testing
@testable import TailcarCore

@Suite("CheckpointKeeper saving state")
struct CheckpointKeeperTests {
    @Test("a failing directory is logged once a minute, counted every time, and its recovery is logged")
    func failingThenRecovered() throws {
        let scratch = ScratchDirectory()
        let directory = scratch.path + "/checkpoints"
        let store = try CheckpointStore(directory: directory)
        let logPath = scratch.path + "/events.log"
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(logFD) }
        let diagnostics = Diagnostics(output: logFD)
        let keeper = CheckpointKeeper(store: store, diagnostics: diagnostics)
        #expect(keeper.save(live: [], now: 0))
        #expect(keeper.saving == .healthy)

        _ = system("rm -rf '\(directory)'")
        let blocker = open(directory, O_WRONLY | O_CREAT, 0o644)
        close(blocker)
        for now: UInt64 in [1_000, 2_000, 30_000, 61_000, 62_000] { #expect(!keeper.save(live: [], now: now)) }
        guard case .failing(_, let failures, let loggedAt) = keeper.saving else {
            Issue.record("expected the failing state, got \(keeper.saving)")
            return
        }
        #expect(failures == 5 && loggedAt == 61_000)
        #expect(diagnostics.counters.checkpointFailures == 5 && diagnostics.counters.checkpointFailing)

        unlink(directory)
        #expect(keeper.save(live: [], now: 63_000))
        #expect(keeper.saving == .healthy && !diagnostics.counters.checkpointFailing)
        let log = String(decoding: try #require(try readWholeFile(logPath)), as: UTF8.self)
        let failedLines = log.split(separator: "\n").filter { $0.contains("\"event\":\"checkpoint_failed\"") }
        #expect(failedLines.count == 2)
        #expect(failedLines.last?.contains("(4 saves failed in a row)") == true)
        #expect(log.contains("\"event\":\"checkpoint_recovered\",\"failed_saves\":5"))
    }
}
