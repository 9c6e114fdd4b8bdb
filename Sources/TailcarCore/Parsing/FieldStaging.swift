// FieldStaging.swift
//
// The scratch a parser fills while it holds a pointer into the arena: parsed fields as slices of the
// source value or of a private scratch buffer (unescaped text, generated names). `commit` then copies the
// scratch into the arena once and appends the fields in one copy. Owns no parsing; reused across records,
// so a steady stream allocates nothing once the buffers have grown.
//
//   source value at arena S = a,"x""y"          scratch = x"y
//   staged fields           = [k1: S+0..<S+1, k2: scratch 0..<3 (listed in fixups)]
//   commit                  : arena += scratch at base B; k2's value becomes B+0..<B+3; fields += staged
//
// The buffers are plain memory owned here (a noncopyable value): staging a field is a store and a count,
// with no uniqueness check or reference count as an array append would have, and never an allocation (a
// full buffer drops what comes and says so; the runner grows it and parses the record again).

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

/// A run of plain values (trivial types: no references, nothing to deinitialise) in memory this value
/// owns, with a capacity that stays fixed while it is filled: an append to a full buffer is dropped and
/// counted, and the buffer says it `overflowed`; its owner then grows it (to hold every append of that
/// fill) and fills it again. Filling thus never allocates, which lets a parse run inside
/// `EventGroup.withBytes` without the arena being retained around it (the optimizer keeps that retain when
/// the code inside may allocate).
struct PlainBuffer<Element>: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    /// Appends dropped since the last `removeAll` because the buffer was full.
    private var dropped = 0
    private var capacity: Int

    init(capacity: Int) {
        precondition(_isPOD(Element.self), "PlainBuffer holds trivial values only")
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var overflowed: Bool { dropped > 0 }

    @inline(__always)
    mutating func append(_ element: Element) {
        guard count < capacity else {
            dropped &+= 1
            return
        }
        (base + count).initialize(to: element)
        count &+= 1
    }

    mutating func removeAll() {
        count = 0
        dropped = 0
    }

    subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    /// If the last fill overflowed, makes room for all of it (at least doubling); the contents are forgotten.
    mutating func growIfOverflowed() {
        guard overflowed else { return }
        capacity = max(capacity * 2, count + dropped)
        base.deallocate()
        base = .allocate(capacity: capacity)
        removeAll()
    }
}

struct FieldStaging: ~Copyable {
    /// Fields in the arena's form: source slices already shifted to the arena; scratch slices hold scratch
    /// offsets until `commit` and are listed in `fixups`.
    private var fields = PlainBuffer<EventField>(capacity: 32)
    private var scratch = PlainBuffer<UInt8>(capacity: 256)
    /// Staged fields with a scratch slice: index * 2, plus 1 when the slice is the key (else the value).
    private var fixups = PlainBuffer<Int>(capacity: 16)
    /// Where the parsed source value begins in the arena.
    private var sourceStart = 0

    init() {}

    /// True when a buffer was full during this fill: the staged fields are incomplete; `grow()`, then
    /// `reset` and stage them again (the same fill then fits).
    var overflowed: Bool { fields.overflowed || scratch.overflowed || fixups.overflowed }

    /// Enlarges the buffers that overflowed (everything staged is forgotten).
    mutating func grow() {
        fields.growIfOverflowed()
        scratch.growIfOverflowed()
        fixups.growIfOverflowed()
    }

    /// Forgets the previous fill's fields; `sourceStart` is where the next parsed value begins in the arena.
    mutating func reset(sourceStart: Int) {
        fields.removeAll()
        scratch.removeAll()
        fixups.removeAll()
        self.sourceStart = sourceStart
    }

    @inline(__always)
    mutating func add(_ key: StagedKey, _ value: StagedBytes) {
        let index = fields.count
        let fieldKey: FieldKey
        switch key {
        case .table(let table):
            fieldKey = .table(table)
        case .bytes(let bytes):
            fieldKey = .arena(place(bytes, fixup: index * 2 + 1))
        }
        fields.append(EventField(key: fieldKey, value: place(value, fixup: index * 2)))
    }

    @inline(__always)
    private mutating func place(_ bytes: StagedBytes, fixup: Int) -> ByteRange {
        if bytes.place == .source { return ByteRange(start: sourceStart &+ bytes.start, count: bytes.count) }
        fixups.append(fixup)
        return ByteRange(start: bytes.start, count: bytes.count)
    }

    /// Where the next `append` lands; pair with `written(since:)`.
    var mark: Int { scratch.count }

    @inline(__always)
    mutating func append(_ byte: UInt8) { scratch.append(byte) }

    func written(since mark: Int) -> StagedBytes {
        StagedBytes(place: .scratch, start: mark, count: scratch.count - mark)
    }

    /// Appends the staged fields to the group's open record (the scratch first, into the arena). Must be
    /// called outside any `withBytes` scope (it appends to the arena).
    mutating func commit(into group: EventGroup) {
        precondition(group.openRecord != nil, "commit without an open record")
        if scratch.count > 0 {
            let base = group.appendBytes(UnsafeRawBufferPointer(scratch.elements)).start
            for fixup in fixups.elements { fields[fixup / 2] = Self.shifted(fields[fixup / 2], fixup, by: base) }
        }
        group.fields.append(contentsOf: fields.elements)
    }

    private static func shifted(_ field: EventField, _ fixup: Int, by base: Int) -> EventField {
        var field = field
        if fixup & 1 == 0 {
            field.value.start += base
        } else if case .arena(var range) = field.key {
            range.start += base
            field.key = .arena(range)
        }
        return field
    }
}
