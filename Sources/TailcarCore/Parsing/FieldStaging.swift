// FieldStaging.swift
//
// The scratch a parser fills while it holds a pointer into the arena: parsed fields as slices of the
// source value or of a private scratch buffer (unescaped text, generated names). `commit` then copies the
// scratch into the arena once and adds the fields. Owns no parsing; reused across records, so a steady
// stream allocates nothing once the arrays have grown.
//
//   source value  = a,"x""y"          scratch = x"y
//   staged fields = [k1: source 0..<1, k2: scratch 0..<3]
//   commit        : arena += scratch at base B; fields k1 = S+0..<S+1, k2 = B+0..<B+3

/// Bytes a parser found: a slice of the source value, or of the staging scratch.
struct StagedBytes: Equatable {
    enum Place: Equatable { case source, scratch }
    var place: Place
    var start: Int
    var count: Int

    static func source(_ range: Range<Int>) -> StagedBytes {
        StagedBytes(place: .source, start: range.lowerBound, count: range.count)
    }
}

enum StagedKey: Equatable {
    case table(Int)
    case bytes(StagedBytes)
}

struct StagedField: Equatable {
    var key: StagedKey
    var value: StagedBytes
}

struct FieldStaging {
    private(set) var fields: [StagedField] = []
    private(set) var scratch: [UInt8] = []

    mutating func reset() {
        fields.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
    }

    mutating func add(_ key: StagedKey, _ value: StagedBytes) {
        fields.append(StagedField(key: key, value: value))
    }

    /// Where the next `append` lands; pair with `written(since:)`.
    var mark: Int { scratch.count }

    mutating func append(_ byte: UInt8) { scratch.append(byte) }

    func written(since mark: Int) -> StagedBytes {
        StagedBytes(place: .scratch, start: mark, count: scratch.count - mark)
    }

    /// Adds the staged fields to the group's open record. `sourceStart` is where the parsed value begins in
    /// the arena. Must be called outside any `withBytes` scope (it appends to the arena).
    func commit(into group: EventGroup, sourceStart: Int) {
        let base = scratch.isEmpty ? 0 : scratch.withUnsafeBytes { group.appendBytes($0).start }
        func resolve(_ bytes: StagedBytes) -> ByteRange {
            switch bytes.place {
            case .source: return ByteRange(start: sourceStart + bytes.start, count: bytes.count)
            case .scratch: return ByteRange(start: base + bytes.start, count: bytes.count)
            }
        }
        for field in fields {
            let key: FieldKey
            switch field.key {
            case .table(let index): key = .table(index)
            case .bytes(let bytes): key = .arena(resolve(bytes))
            }
            group.addField(key: key, value: resolve(field.value))
        }
    }
}
