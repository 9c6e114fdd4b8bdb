// Budget.swift
//
// One CPU and memory budget of `tailcar bench`: a CPU share (0.1 = 100m) and a memory limit, read from
// the forms a `resources:` block uses (`0.25`, `250m`, `32Mi`, `1Gi`, plain bytes) and written back as one.
// Owns the parsing and the Kubernetes quantity spelling; nothing here touches the system.

public struct Budget: Sendable, Equatable, CustomStringConvertible {
    /// CPUs (1.0 is one core).
    public var cpus: Double
    public var memoryBytes: Int

    public init(cpus: Double, memoryBytes: Int) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
    }

    public var memoryMiB: Double { Double(memoryBytes) / 1_048_576 }

    /// "100m CPU, 32Mi".
    public var description: String { "\(Budget.cpuQuantity(cpus)) CPU, \(Budget.memoryQuantity(memoryBytes))" }

    /// "0.1", "0.25", "1", "100m", "1500m" -> CPUs; nil for anything else or outside 0.001...1024.
    public static func parseCPUs(_ text: String) -> Double? {
        let value: Double?
        if text.hasSuffix("m") {
            value = Double(text.dropLast()).map { $0 / 1000 }
        } else {
            value = Double(text)
        }
        guard let value, value.isFinite, value >= 0.001, value <= 1024 else { return nil }
        return value
    }

    /// "32Mi", "1Gi", "512Ki", "64M", "30000000" -> bytes; nil for anything else or under 4 MiB (no process
    /// starts in less).
    public static func parseMemory(_ text: String) -> Int? {
        let units: [(String, Double)] = [("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824),
                                         ("K", 1000), ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let bytes = value * scale
        guard bytes >= 4 * 1_048_576, bytes < 1e15 else { return nil }
        return Int(bytes)
    }

    /// 0.1 -> "100m", 1 -> "1", 1.5 -> "1500m".
    public static func cpuQuantity(_ cpus: Double) -> String {
        let millicores = Int((cpus * 1000).rounded())
        return millicores % 1000 == 0 ? "\(millicores / 1000)" : "\(millicores)m"
    }

    /// 33554432 -> "32Mi"; a size that is no whole number of MiB in Ki, else bytes.
    public static func memoryQuantity(_ bytes: Int) -> String {
        if bytes % 1_073_741_824 == 0 { return "\(bytes / 1_073_741_824)Gi" }
        if bytes % 1_048_576 == 0 { return "\(bytes / 1_048_576)Mi" }
        if bytes % 1024 == 0 { return "\(bytes / 1024)Ki" }
        return "\(bytes)"
    }

    /// Every CPU share with every memory limit, in the order given (CPU outer).
    public static func grid(cpus: [Double], memories: [Int]) -> [Budget] {
        cpus.flatMap { cpu in memories.map { Budget(cpus: cpu, memoryBytes: $0) } }
    }
}
