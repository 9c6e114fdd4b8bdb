// TokenBucket.swift
//
// A token bucket over bytes, on a clock the caller passes in (monotonic milliseconds), so tests drive time
// by hand. Owns the arithmetic and the time spent refusing; does not own timers (ReadScheduler arms one).
//
//   rate 1,000 B/s, capacity 100 B:   t=0 take(300) -> 100    t=50 take(300) -> 50    t=50 take(1) -> 0
//                                     (refused from t=50)      t=150 take(300) -> 100 (throttled 100 ms)

struct TokenBucket {
    /// Bytes added per second.
    let bytesPerSecond: Int
    /// The most the bucket holds: the largest burst after a quiet spell.
    let capacity: Int
    private var tokens: Double
    private var refilledAt: UInt64
    /// When the bucket began refusing (nil while it grants).
    private var refusingSince: UInt64?
    /// Time spent refusing, up to the last grant.
    private var refusedMilliseconds: UInt64 = 0

    /// A full bucket holding a tenth of a second of bytes (at least one byte).
    init(bytesPerSecond: Int, now: UInt64) {
        precondition(bytesPerSecond > 0, "a rate limit must be positive")
        self.bytesPerSecond = bytesPerSecond
        capacity = max(1, bytesPerSecond / 10)
        tokens = Double(capacity)
        refilledAt = now
    }

    /// Grants up to `wanted` bytes now and spends them; 0 means refused (the bucket is empty).
    mutating func take(upTo wanted: Int, now: UInt64) -> Int {
        refill(now)
        let granted = min(wanted, Int(tokens))
        guard granted > 0 else {
            if refusingSince == nil { refusingSince = now }
            return 0
        }
        if let since = refusingSince {
            refusedMilliseconds &+= now &- since
            refusingSince = nil
        }
        tokens -= Double(granted)
        return granted
    }

    /// Returns bytes granted by `take` but not used (a read that found fewer bytes than granted).
    mutating func giveBack(_ unused: Int) {
        tokens = min(Double(capacity), tokens + Double(max(0, unused)))
    }

    /// Milliseconds until `bytes` (at most the capacity) are available; at least 1.
    func millisecondsUntil(_ bytes: Int, now: UInt64) -> UInt64 {
        var copy = self
        copy.refill(now)
        let missing = Double(min(bytes, capacity)) - copy.tokens
        guard missing > 0 else { return 1 }
        return max(1, UInt64((missing * 1000 / Double(bytesPerSecond)).rounded(.up)))
    }

    /// Time spent refusing so far, including a refusal still going on.
    func throttledMilliseconds(now: UInt64) -> UInt64 {
        refusedMilliseconds &+ (refusingSince.map { now &- $0 } ?? 0)
    }

    private mutating func refill(_ now: UInt64) {
        guard now > refilledAt else { return }
        tokens = min(Double(capacity), tokens + Double(now - refilledAt) * Double(bytesPerSecond) / 1000)
        refilledAt = now
    }
}
