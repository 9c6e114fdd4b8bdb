// ClickHouseBlockCompressor.swift
//
// ClickHouse's own compressed framing, the one its native protocol and its files use, and which its HTTP
// interface decodes from a request body when the URL says `decompress=1` (every version, 18.16 included).
// The input goes in blocks of at most 1 MiB (ClickHouse's own max_compress_block_size), each
//
//   checksum (16 bytes: CityHash128 v1.0.2 of the 9 header bytes and the payload, low half first)
//   method (1 byte: 0x82 lz4, 0x90 zstd) | size with this header (4, little-endian) | raw size (4, LE)
//   payload (an lz4 block or a zstd frame)
//
// Owns the framing and its checksums; the algorithms and their state are Compressor's.

final class ClickHouseBlockCompressor: HTTPBodyCompressor {
    /// The most raw bytes in one block.
    static let blockSize = 1 << 20
    /// Checksum and header in front of every payload.
    static let blockOverhead = 16 + 9

    private let compressor: Compressor
    private let method: UInt8

    /// `algorithm` is `.lz4` or `.zstd` (at `zstdLevel`).
    init(_ algorithm: BodyCompression, zstdLevel: Int32 = 1) {
        precondition(algorithm != .none, "ClickHouse blocks need an algorithm")
        compressor = Compressor(algorithm, zstdLevel: zstdLevel)
        method = algorithm == .lz4 ? 0x82 : 0x90
    }

    func bound(forInput inputBytes: Int) -> Int {
        let whole = inputBytes / Self.blockSize
        let rest = inputBytes % Self.blockSize
        return whole * (Self.blockOverhead + compressor.bound(forInput: Self.blockSize))
            + (rest > 0 ? Self.blockOverhead + compressor.bound(forInput: rest) : 0)
    }

    /// Writes `input` as blocks into `destination` (at least `bound(forInput:)` bytes); returns their size.
    func compress(_ input: UnsafeRawBufferPointer,
                  into destination: UnsafeMutableRawBufferPointer) throws(CompressionError) -> Int {
        precondition(destination.count >= bound(forInput: input.count), "block destination below the bound")
        var read = 0
        var written = 0
        while read < input.count {
            let take = min(Self.blockSize, input.count - read)
            let block = destination.baseAddress! + written
            let payload = UnsafeMutableRawBufferPointer(start: block + Self.blockOverhead,
                                                        count: compressor.bound(forInput: take))
            let packed = try compressor.compress(UnsafeRawBufferPointer(rebasing: input[read..<(read + take)]),
                                                 into: payload)
            let header = block + 16
            header.storeBytes(of: method, as: UInt8.self)
            header.storeBytes(of: UInt32(9 + packed).littleEndian, toByteOffset: 1, as: UInt32.self)
            header.storeBytes(of: UInt32(take).littleEndian, toByteOffset: 5, as: UInt32.self)
            let checksum = CityHash128.hash(UnsafeRawBufferPointer(start: header, count: 9 + packed))
            block.storeBytes(of: checksum.low.littleEndian, as: UInt64.self)
            block.storeBytes(of: checksum.high.littleEndian, toByteOffset: 8, as: UInt64.self)
            read += take
            written += Self.blockOverhead + packed
        }
        return written
    }
}
