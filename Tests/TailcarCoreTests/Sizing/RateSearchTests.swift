// The rate search as a state machine: fed the verdict a pipeline of known capacity would give (held below
// it, not above), it converges on that capacity from below within its resolution whatever the estimate,
// confirms with a full-length step, steps down when the confirmation fails, and gives up below the minimum.
import Testing
@testable import TailcarCore

@Suite("Rate search")
struct RateSearchTests {
    /// Runs the search against a capacity; returns the result and the number of steps.
    private func search(capacity: Double, estimate: Double, failConfirmations: Int = 0) -> (Double?, Int) {
        var search = RateSearch(estimate: estimate)
        var steps = 0
        var confirmationsFailed = 0
        while let rate = search.nextRate {
            steps += 1
            var held = rate <= capacity
            if search.confirming, confirmationsFailed < failConfirmations {
                confirmationsFailed += 1
                held = false
            }
            search.record(held: held)
            #expect(steps < 60)
            if steps >= 60 { break }
        }
        return (search.result, steps)
    }

    @Test("converges from below within the resolution, whether the estimate is low, right or high",
          arguments: [10.0, 100.0, 1000.0, 20.0])
    func converges(estimate: Double) {
        let (result, steps) = search(capacity: 100, estimate: estimate)
        let found = try! #require(result)
        #expect(found <= 100)
        #expect(found >= 100 / 1.05)
        #expect(steps <= 20)
    }

    @Test("a failed confirmation steps down 10% and confirms again")
    func confirmationStepsDown() {
        let (result, _) = search(capacity: 100, estimate: 100, failConfirmations: 1)
        let found = try! #require(result)
        #expect(found < 100 * 0.91)
        #expect(found > 100 * 0.85)
    }

    @Test("three failed confirmations, or no rate above the minimum held: no result")
    func givesUp() {
        #expect(search(capacity: 100, estimate: 100, failConfirmations: 3).0 == nil)
        #expect(search(capacity: 0.5, estimate: 50).0 == nil)
    }

    @Test("the first step is 60% of the estimate, then it rises by 25%")
    func probing() {
        var search = RateSearch(estimate: 100)
        #expect(search.nextRate == 60)
        search.record(held: true)
        #expect(search.nextRate == 75)
        #expect(!search.confirming)
    }
}

@Suite("Lag verdict")
struct LagVerdictTests {
    private func samples(_ lags: [Double]) -> [LagSample] {
        lags.enumerated().map { LagSample(elapsed: Double($0.offset) * 0.25, lagSeconds: $0.element) }
    }

    @Test("a small steady or saw-toothed lag holds")
    func holds() {
        #expect(LagVerdict.judge(samples([0.5, 0.02, 0.05, 0.01, 0.04, 0.02, 0.05, 0.03, 0.02, 0.05]), warmup: 0.5) == .held)
    }

    @Test("a lag of a second or more fails, even once")
    func tooHigh() {
        #expect(LagVerdict.judge(samples([0, 0.1, 0.1, 1.2, 0.1, 0.1, 0.1, 0.1]), warmup: 0) == .lagTooHigh(seconds: 1.2))
    }

    @Test("a lag that grows fails before it reaches a second")
    func growing() {
        let verdict = LagVerdict.judge(samples([0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]), warmup: 0)
        guard case .lagGrowing = verdict else {
            Issue.record("expected growing, got \(verdict)")
            return
        }
    }

    @Test("samples inside the warm-up are not judged; too few left is no verdict to trust")
    func warmup() {
        #expect(LagVerdict.judge(samples([3, 3, 0, 0, 0, 0, 0]), warmup: 0.5) == .held)
        #expect(LagVerdict.judge(samples([0, 0, 0]), warmup: 0) == .tooFewSamples)
    }
}

@Suite("Lag verdict: flushers")
struct UnacknowledgedLagTests {
    @Test("a flusher batch that comes and goes holds; flushers that keep falling behind fail")
    func flushers() {
        let sawtooth = (0..<16).map { LagSample(elapsed: Double($0) * 0.25, lagSeconds: 0.02,
                                                unacknowledgedSeconds: Double($0 % 4) * 0.25) }
        #expect(LagVerdict.judge(sawtooth, warmup: 0) == .held)
        let falling = (0..<16).map { LagSample(elapsed: Double($0) * 0.25, lagSeconds: 0.02,
                                               unacknowledgedSeconds: Double($0) * 0.2) }
        guard case .unacknowledgedGrowing = LagVerdict.judge(falling, warmup: 0) else {
            Issue.record("expected the flushers to be falling behind")
            return
        }
    }
}
