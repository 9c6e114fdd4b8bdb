// Tests of the read-rate limit's token bucket on a clock the test turns by hand: what it grants, how it
// refills, how long until it can grant again, and the time it spent refusing.
import Testing
@testable import TailcarCore

@Suite("Token bucket")
struct TokenBucketTests {
    @Test("a full bucket grants its capacity, a tenth of a second of bytes, then refuses")
    func grantsCapacityThenRefuses() {
        var bucket = TokenBucket(bytesPerSecond: 1000, now: 0)
        #expect(bucket.capacity == 100)
        #expect(bucket.take(upTo: 300, now: 0) == 100)
        #expect(bucket.take(upTo: 1, now: 0) == 0)
    }

    @Test("bytes come back at the rate, never beyond the capacity")
    func refillsAtTheRate() {
        var bucket = TokenBucket(bytesPerSecond: 1000, now: 0)
        _ = bucket.take(upTo: 100, now: 0)
        #expect(bucket.take(upTo: 300, now: 50) == 50)
        #expect(bucket.take(upTo: 300, now: 10_000) == 100)
    }

    @Test("over any span, no more than the capacity plus the rate times the span is granted")
    func neverFasterThanTheRate() {
        var bucket = TokenBucket(bytesPerSecond: 200_000, now: 1_000)
        var granted = 0
        for now in stride(from: UInt64(1_000), through: 11_000, by: 7) {
            granted += bucket.take(upTo: 64 << 10, now: now)
        }
        #expect(granted <= bucket.capacity + 200_000 * 10)
        #expect(granted >= 200_000 * 10 - 200_000 / 100)
    }

    @Test("fractions of a byte per millisecond are not lost between small steps")
    func keepsFractions() {
        var bucket = TokenBucket(bytesPerSecond: 500, now: 0)
        _ = bucket.take(upTo: bucket.capacity, now: 0)
        var granted = 0
        for now in UInt64(1)...1000 { granted += bucket.take(upTo: 1000, now: now) }
        #expect(granted == 500)
    }

    @Test("unused bytes given back can be taken again, up to the capacity")
    func giveBack() {
        var bucket = TokenBucket(bytesPerSecond: 1000, now: 0)
        #expect(bucket.take(upTo: 100, now: 0) == 100)
        bucket.giveBack(60)
        #expect(bucket.take(upTo: 100, now: 0) == 60)
        bucket.giveBack(1_000_000)
        #expect(bucket.take(upTo: 1000, now: 0) == 100)
    }

    @Test("the wait until an amount is available rounds up and is at least 1 ms")
    func waitUntilAvailable() {
        var bucket = TokenBucket(bytesPerSecond: 1000, now: 0)
        _ = bucket.take(upTo: 100, now: 0)
        #expect(bucket.millisecondsUntil(64 << 10, now: 0) == 100)
        #expect(bucket.millisecondsUntil(1, now: 0) == 1)
        #expect(bucket.millisecondsUntil(30, now: 10) == 20)
        #expect(bucket.millisecondsUntil(5, now: 10) == 1)
    }

    @Test("time refusing counts from the first refusal to the next grant, and while it lasts")
    func throttledTime() {
        var bucket = TokenBucket(bytesPerSecond: 1000, now: 0)
        _ = bucket.take(upTo: 100, now: 0)
        #expect(bucket.take(upTo: 10, now: 0) == 0)
        #expect(bucket.throttledMilliseconds(now: 8) == 8)
        #expect(bucket.take(upTo: 10, now: 40) == 10)
        #expect(bucket.throttledMilliseconds(now: 1_000) == 40)
        #expect(bucket.take(upTo: 200, now: 1_000) == 100)
        #expect(bucket.take(upTo: 1, now: 1_000) == 0)
        #expect(bucket.throttledMilliseconds(now: 1_010) == 50)
    }
}
