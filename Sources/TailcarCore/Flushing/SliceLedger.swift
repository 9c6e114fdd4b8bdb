// SliceLedger.swift
//
// How many slices of each submitted group a batching flusher has not finished yet. A group cut across
// batches is acknowledged to the pipeline only with its last slice (delivered, or rejected for good), so
// file offsets move only over delivered bytes. Owns that count; does not own batching or delivery.

struct SliceLedger {
    private var left: [ObjectIdentifier: (group: EventGroup, count: Int)] = [:]

    /// Groups with slices not finished.
    var pendingGroups: Int { left.count }

    /// `group` was cut into `slices` slices.
    mutating func begin(_ group: EventGroup, slices: Int) {
        left[ObjectIdentifier(group)] = (group, slices)
    }

    /// One slice each of `slices`' groups is done; returns the groups whose last slice this was, in order.
    mutating func finish(_ slices: [RecordSlice]) -> [EventGroup] {
        var done: [EventGroup] = []
        for slice in slices where finish(slice.group) { done.append(slice.group) }
        return done
    }

    /// One slice of `group` is done; true when it was the last.
    mutating func finish(_ group: EventGroup) -> Bool {
        let id = ObjectIdentifier(group)
        guard let entry = left[id] else { return false }
        if entry.count > 1 {
            left[id] = (entry.group, entry.count - 1)
            return false
        }
        left[id] = nil
        return true
    }

    /// One slice of `group` became `extra + 1` (a batch split in two).
    mutating func add(_ extra: Int, for group: EventGroup) {
        let id = ObjectIdentifier(group)
        if let entry = left[id] { left[id] = (entry.group, entry.count + extra) }
    }
}
