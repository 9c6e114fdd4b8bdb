// Agent+Stop.swift
//
// How an agent ends, as phase transitions checked on every tick:
//
//   running   --SIGTERM/SIGINT-->            stopping(deadline = now + stopDelay; none in full drain mode)
//   running   --drained for exitWhenDrained--> finishing
//   running   --the tombstone file appears-->  tombstoned (Agent+Tombstone.swift)
//   tombstoned --every file read to its end-->  finishing(no deadline): waits for every acknowledgement
//   tombstoned, finishing(no deadline) --SIGTERM--> stopping, finishing(deadline = now + stopDelay)
//                                              (full drain mode: stopping without one, finishing unchanged)
//   stopping  --drained and quiet, or deadline--> finishing: incomplete lines sent, flushers flushed
//   finishing --all acknowledged, or deadline--> stopped: checkpoints written, handles closed, exit 0
//
// "Drained" means every open file was read to its end. Quiet means nothing grew for stopQuietPeriod, so an
// application still logging during its own shutdown is collected until it stops or the deadline comes.

import Glibc

extension Agent {
    func advancePhase() {
        let now = context.now
        switch phase {
        case .running:
            if let wait = context.options.exitWhenDrained, isDrained(),
               now &- lastActivity >= wait.milliseconds {
                beginFinishing(reason: "drained", deadline: now + context.options.stopDelay.milliseconds)
            }
        case .tombstoned:
            // No quiet period: the application said it is done, so what is on disk now is everything.
            if isDrained() { beginFinishing(reason: "tombstone", deadline: .max) }
        case .stopping(let reason, let deadline):
            let quiet = now &- lastActivity >= context.options.stopQuietPeriod.milliseconds
            if (isDrained() && quiet) || now >= deadline {
                beginFinishing(reason: reason, deadline: deadline)
            }
        case .finishing(let reason, let deadline):
            if isAcknowledged() || now >= deadline { finish(reason: reason) }
        case .stopped:
            break
        }
    }

    /// Every open file read to its end.
    func isDrained() -> Bool {
        for pipeline in pipelines {
            for input in pipeline.inputs {
                for tailer in input.tailers {
                    guard let fd = tailer.descriptor else { continue }
                    var status = stat()
                    guard fstat(fd, &status) == 0 else { continue }
                    if UInt64(status.st_size) > tailer.readOffset || tailer.mayHaveData { return false }
                }
            }
        }
        return true
    }

    /// Every byte handed downstream acknowledged by every flusher.
    func isAcknowledged() -> Bool {
        pipelines.allSatisfy { pipeline in
            pipeline.pendingGroups == 0 && pipeline.inputs.allSatisfy { input in
                input.tailers.allSatisfy { !$0.hasUnacknowledged && !$0.hasBufferedInput }
            }
        }
    }

    private func beginFinishing(reason: String, deadline: UInt64) {
        for pipeline in pipelines {
            for input in pipeline.inputs {
                for tailer in input.tailers { pipeline.flushRemainder(tailer) }
            }
            pipeline.flushAll()
        }
        phase = .finishing(reason: reason, deadline: deadline)
        if isAcknowledged() || context.now >= deadline { finish(reason: reason) }
    }

    private func finish(reason: String) {
        finishRetirements(force: true)
        saveCheckpointsIfDue(force: true)
        var unacknowledged: UInt64 = 0
        for pipeline in pipelines {
            for input in pipeline.inputs {
                for tailer in input.tailers { unacknowledged += tailer.readOffset - tailer.ackedOffset }
            }
        }
        phase = .stopped
        report(.agentStopped(reason: reason, unacknowledgedBytes: unacknowledged))
        closeHandles()
        loop.stop()
    }
}
