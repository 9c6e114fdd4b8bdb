// LagVerdict.swift
//
// Whether one step of the rate search held its rate: the lag (bytes written but not yet read through the
// pipeline, from the child's /metrics, turned into seconds at the step's rate) stayed under 1 s and
// did not grow. Owns that judgement over a step's samples; measuring them is SizingRun's.

public struct LagSample: Sendable, Equatable {
    /// Seconds since the step started writing.
    public var elapsed: Double
    /// Written but not yet read through the pipeline.
    public var lagSeconds: Double
    /// Written but not yet acknowledged by the flushers (tailcar_file_lag_bytes): the read lag plus what the
    /// flushers hold. flusher_sls holds a batch up to 1 s, so only its growth counts.
    public var unacknowledgedSeconds: Double

    public init(elapsed: Double, lagSeconds: Double, unacknowledgedSeconds: Double? = nil) {
        self.elapsed = elapsed
        self.lagSeconds = lagSeconds
        self.unacknowledgedSeconds = unacknowledgedSeconds ?? lagSeconds
    }
}

public enum LagVerdict: Sendable, Equatable {
    case held
    case lagTooHigh(seconds: Double)
    case lagGrowing(from: Double, to: Double)
    /// The flushers fall behind (a sink slower than the pipeline), before the in-flight cap pauses reading.
    case unacknowledgedGrowing(from: Double, to: Double)
    case tooFewSamples

    /// The bound of the issue: a sidecar that is more than a second behind is not keeping up.
    public static let maximumLagSeconds = 1.0
    /// How much the lag may grow from the first quarter of a step to the last before it counts as growing:
    /// reading wakes up every --read-delay and a read takes a batch, so the lag saw-tooths by that much.
    public static let growthToleranceSeconds = 0.15
    /// The same for what the flushers hold: a batch of up to 1 s comes and goes.
    public static let unacknowledgedGrowthToleranceSeconds = 0.5

    /// `samples` in time order; the first `warmup` seconds (the child settling in) are not judged.
    public static func judge(_ samples: [LagSample], warmup: Double) -> LagVerdict {
        let judged = samples.filter { $0.elapsed >= warmup }
        guard judged.count >= 4 else { return .tooFewSamples }
        if let worst = judged.map(\.lagSeconds).max(), worst >= maximumLagSeconds {
            return .lagTooHigh(seconds: worst)
        }
        let quarter = max(1, judged.count / 4)
        let first = mean(judged.prefix(quarter).map(\.lagSeconds))
        let last = mean(judged.suffix(quarter).map(\.lagSeconds))
        if last - first > growthToleranceSeconds { return .lagGrowing(from: first, to: last) }
        let held = mean(judged.prefix(quarter).map(\.unacknowledgedSeconds))
        let heldLast = mean(judged.suffix(quarter).map(\.unacknowledgedSeconds))
        if heldLast - held > unacknowledgedGrowthToleranceSeconds {
            return .unacknowledgedGrowing(from: held, to: heldLast)
        }
        return .held
    }

    public var held: Bool { self == .held }

    public var description: String {
        switch self {
        case .held: return "held"
        case .lagTooHigh(let seconds): return "lag reached \(format(seconds)) s"
        case .lagGrowing(let from, let to): return "lag grew from \(format(from)) s to \(format(to)) s"
        case .unacknowledgedGrowing(let from, let to):
            return "the flushers fell behind: unacknowledged data grew from \(format(from)) s to \(format(to)) s"
        case .tooFewSamples: return "too few samples (the step was shorter than its warm-up)"
        }
    }

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }
}

/// 0.123456 -> "0.12".
func format(_ value: Double, decimals: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if text.hasSuffix(".0") && decimals == 0 { text.removeLast(2) }
    if let dot = text.firstIndex(of: "."), decimals > 0 {
        let fraction = text[text.index(after: dot)...].count
        if fraction < decimals { text += String(repeating: "0", count: decimals - fraction) }
    }
    if text.contains("e") { return "\(Int(value.rounded()))" }
    return text
}
