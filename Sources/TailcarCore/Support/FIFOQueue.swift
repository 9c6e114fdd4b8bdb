// FIFOQueue.swift
//
// A first-in, first-out queue with a cheap push to the front, for requests and batches waiting their
// turn. A slot is cleared the moment its element leaves, so nothing that was taken stays alive through
// the queue's storage (an element may own megabytes: a request body, the groups of a batch).

struct FIFOQueue<Element> {
    private var slots: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == slots.count }
    var count: Int { slots.count - head }

    /// The element `popFront` would return, left in place.
    var first: Element? { head < slots.count ? slots[head] : nil }

    mutating func pushBack(_ element: Element) { slots.append(element) }

    mutating func pushFront(_ element: Element) {
        if head > 0 {
            head -= 1
            slots[head] = element
        } else {
            slots.insert(element, at: 0)
        }
    }

    mutating func popFront() -> Element? {
        guard head < slots.count, let element = slots[head] else { return nil }
        slots[head] = nil
        head += 1
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32, head * 2 >= slots.count {
            slots.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Takes every element, oldest first.
    mutating func removeAll() -> [Element] {
        let remaining = slots[head...].compactMap { $0 }
        slots = []
        head = 0
        return remaining
    }
}
