// RateSearch.swift
//
// The search for the highest rate a budget holds, as a state machine fed one step's verdict at a time:
// probe upward from the calibrated estimate (or downward when even the first step fails) until a held rate
// and a failed one bracket the answer, bisect the bracket down to `resolution`, then confirm the lower end
// with a full-length step (stepping down 10% at most three times when it does not hold). Owns only the
// choice of the next rate; running a step is SizingRun's.

public struct RateSearch: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case probing(rate: Double)
        case bisecting(low: Double, high: Double)
        case confirming(rate: Double, attempt: Int)
        case found(Double)
        /// Not even `minimumRate` held.
        case notFound
    }

    public private(set) var state: State
    public private(set) var highestHeld: Double?
    public private(set) var lowestFailed: Double?
    public private(set) var probes = 0
    /// Stop bisecting when high / low is at most 1 + resolution.
    public let resolution: Double
    public let minimumRate: Double
    static let growth = 1.25
    static let shrink = 0.5
    static let maximumProbes = 24
    static let confirmAttempts = 3

    /// `estimate`: the calibrated guess in lines per second; probing starts at 60% of it.
    public init(estimate: Double, resolution: Double = 0.04, minimumRate: Double = 1) {
        self.resolution = resolution
        self.minimumRate = minimumRate
        state = .probing(rate: max(minimumRate, estimate * 0.6))
    }

    /// The rate of the next step; nil once the search is over.
    public var nextRate: Double? {
        switch state {
        case .probing(let rate): return rate
        case .bisecting(let low, let high): return (low * high).squareRoot()
        case .confirming(let rate, _): return rate
        case .found, .notFound: return nil
        }
    }

    /// True when the next step is the full-length confirmation (the others may be shorter).
    public var confirming: Bool {
        if case .confirming = state { return true }
        return false
    }

    public var result: Double? {
        if case .found(let rate) = state { return rate }
        return nil
    }

    public mutating func record(held: Bool) {
        guard let rate = nextRate else { return }
        switch state {
        case .probing:
            probes += 1
            if held { highestHeld = max(highestHeld ?? 0, rate) } else { lowestFailed = min(lowestFailed ?? .infinity, rate) }
            if let low = highestHeld, let high = lowestFailed {
                state = narrowEnough(low, high) ? .confirming(rate: low, attempt: 0) : .bisecting(low: low, high: high)
            } else if held {
                state = probes >= Self.maximumProbes ? .confirming(rate: rate, attempt: 0) : .probing(rate: rate * Self.growth)
            } else {
                let lower = rate * Self.shrink
                state = lower < minimumRate || probes >= Self.maximumProbes ? .notFound : .probing(rate: lower)
            }
        case .bisecting(let low, let high):
            let (newLow, newHigh) = held ? (rate, high) : (low, rate)
            if held { highestHeld = rate } else { lowestFailed = rate }
            state = narrowEnough(newLow, newHigh) ? .confirming(rate: newLow, attempt: 0)
                : .bisecting(low: newLow, high: newHigh)
        case .confirming(_, let attempt):
            if held {
                state = .found(rate)
            } else if attempt + 1 < Self.confirmAttempts, rate * 0.9 >= minimumRate {
                state = .confirming(rate: rate * 0.9, attempt: attempt + 1)
            } else {
                state = .notFound
            }
        case .found, .notFound:
            break
        }
    }

    private func narrowEnough(_ low: Double, _ high: Double) -> Bool { high / low <= 1 + resolution }
}
