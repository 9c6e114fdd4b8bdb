// Tests of ClickHouse's compressed blocks: CityHash128 v1.0.2 against known answers (from PyPI's
// clickhouse-cityhash, the hash clickhouse-driver checks blocks with), blocks read back field by field, and
// the insert's URL and headers for each Compression. Tests/integration/test_clickhouse.py sends the same
// blocks to a real server, which refuses any block whose checksum it cannot reproduce.
import Testing
@testable import TailcarCore

/// Bytes every length of the known answers is a prefix of: (i² · 31 + i · 17 + 5) mod 251.
private let hashInput: [UInt8] = (0..<1100).map { (index: Int) -> UInt8 in
    let value: Int = index * index * 31 + index * 17 + 5
    return UInt8(value % 251)
}

/// One block read back: its checksum, method byte, sizes and payload.
private struct ReadBlock {
    let checksum: (low: UInt64, high: UInt64)
    let method: UInt8
    let sizeWithHeader: Int
    let rawSize: Int
    let hashed: [UInt8]
    var payload: [UInt8] { Array(hashed[9...]) }
}

private func readBlocks(_ bytes: [UInt8]) -> [ReadBlock] {
    var blocks: [ReadBlock] = []
    var at = 0
    func uint(_ offset: Int, _ width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
    while at < bytes.count {
        let size = Int(uint(at + 17, 4))
        blocks.append(ReadBlock(checksum: (uint(at, 8), uint(at + 8, 8)), method: bytes[at + 16], sizeWithHeader: size,
                                rawSize: Int(uint(at + 21, 4)), hashed: Array(bytes[(at + 16)..<(at + 16 + size)])))
        at += 16 + size
    }
    return blocks
}

@Suite("ClickHouse blocks")
struct ClickHouseBlockTests {
    @Test("CityHash128 v1.0.2 gives the known answers for every length class")
    func cityHashKnownAnswers() {
        let known: [(Int, UInt64, UInt64)] = [
            (0, 0x3df09dfc64c09a2b, 0x3cb540c392e51e29),
            (1, 0xd9a8537dee2e4ded, 0x43dc7df558d2519c),
            (3, 0x0133c11b447df265, 0x014c05318c6fb21a),
            (4, 0x99f73a607b8a6534, 0x5b5810d9101f94c1),
            (7, 0xbfbdd24439d4210a, 0xff0758c44c1de126),
            (8, 0xf8d62c4181ceb623, 0xb44e3fbd10bce254),
            (9, 0x746a09115d36a004, 0xaf4e147601cb28db),
            (15, 0x07205cb7285243e5, 0x713d8fe0f6fd9da4),
            (16, 0xbc0b7121ccca93d4, 0x44793cac307934d1),
            (17, 0x6a8eaa206f085e90, 0xb5ff84e86862dc05),
            (31, 0x3c7b8fd935776cf3, 0xbe3613274ab57510),
            (32, 0x2f2918b03c86cd2e, 0x5151d8c1e89b942e),
            (33, 0x640530b437807cb0, 0xb2313363117e4d87),
            (64, 0x350ffbd554c4bbca, 0x81f79b631a920ebc),
            (127, 0xfc9b2aa9bc2e776e, 0x23d73559f4cc8c24),
            (128, 0xe15989e5aa2b9212, 0xb8093893a0478903),
            (129, 0xea925d763972a1b3, 0x249647cf91c3f676),
            (143, 0xbfd57f8730980fa7, 0xf12143cc567dc42c),
            (144, 0x1276f05ed02f445f, 0x5c74b6fd3c5dbb79),
            (255, 0x270beca4848c05ac, 0x68c8756eabe7019a),
            (256, 0xb0c3fb46d73d1c08, 0xac7d6b8fd8ce1d3e),
            (300, 0xb6ae2b9aa5657291, 0x34825681e216742e),
            (1000, 0x03848c82b23ce858, 0xdaff5d89afcb1df6),
            (1100, 0xb0fd2d4f1541b0d0, 0x8d5ef006916e3958)
        ]
        for (length, low, high) in known {
            let hash = hashInput.withUnsafeBytes { CityHash128.hash(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            #expect(hash.low == low && hash.high == high, "length \(length)")
        }
    }

    @Test("a body becomes 1 MiB blocks, each checksummed, with its method and sizes, that decode to the input",
          arguments: [BodyCompression.lz4, .zstd])
    func blocksReadBack(algorithm: BodyCompression) throws {
        let blocker = ClickHouseBlockCompressor(algorithm)
        let decompressor = Decompressor()
        for size in [1, 5000, ClickHouseBlockCompressor.blockSize, 2 * ClickHouseBlockCompressor.blockSize + 12_345] {
            let input = sampleBody(bytes: size, seed: UInt64(size))
            var out = [UInt8](repeating: 0, count: blocker.bound(forInput: size))
            let written = try input.withUnsafeBytes { raw in
                try out.withUnsafeMutableBytes { try blocker.compress(raw, into: $0) }
            }
            let blocks = readBlocks(Array(out[0..<written]))
            #expect(blocks.count == (size + ClickHouseBlockCompressor.blockSize - 1) / ClickHouseBlockCompressor.blockSize)
            var decoded: [UInt8] = []
            for block in blocks {
                let hash = block.hashed.withUnsafeBytes { CityHash128.hash($0) }
                #expect(block.checksum.low == hash.low && block.checksum.high == hash.high)
                #expect(block.method == (algorithm == .lz4 ? 0x82 : 0x90))
                #expect(block.sizeWithHeader == block.hashed.count && block.rawSize <= ClickHouseBlockCompressor.blockSize)
                decoded += try block.payload.withUnsafeBytes {
                    try decompressor.decompress($0, algorithm: algorithm, rawSize: block.rawSize)
                }
            }
            #expect(decoded == input, "size \(size)")
            if size >= 5000 { #expect(written < size / 2) }
        }
    }

    @Test("the insert's URL and headers follow Compression; a body sent raw after a failure has neither",
          arguments: [ClickHouseFlusherSettings.Compression.lz4, .zstd, .gzip, .none])
    func requestPerCompression(compression: ClickHouseFlusherSettings.Compression) throws {
        let settings = ClickHouseFlusherSettings(endpoint: "http://127.0.0.1:8123", database: "logs", table: "app",
                                                 compression: compression)
        let format = try ClickHouseFormat(settings: settings, name: "ch", diagnostics: Diagnostics(quiet: true))
        let group = makeGroup([(1_700_000_000, 7, [("content", "GET /a")])])
        let body = format.encode([RecordSlice(group: group, records: 0..<1)], observed: [0])
        #expect(body.isCompressed == (compression != .none))
        let head = format.request(body: body)
        let insert = "/?query=INSERT%20INTO%20%60logs%60.%60app%60%20FORMAT%20JSONEachRow"
        #expect(head.target == insert + (compression == .lz4 || compression == .zstd ? "&decompress=1" : ""))
        #expect(head.headers.contains { $0 == ("Content-Encoding", "gzip") } == (compression == .gzip))
        let raw = [UInt8]("{}\n".utf8).withUnsafeBytes { HTTPBatchBody(copying: $0, rawSize: 3, isCompressed: false) }
        let plain = format.request(body: raw)
        #expect(plain.target == insert && !plain.headers.contains { $0.name == "Content-Encoding" })
        if compression == .lz4 {
            let blocks = readBlocks(Array(body.bytes))
            #expect(blocks.count == 1 && blocks[0].method == 0x82 && blocks[0].rawSize == body.rawSize)
        }
    }
}
