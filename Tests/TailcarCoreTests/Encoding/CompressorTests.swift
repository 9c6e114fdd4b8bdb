// Tests of Compressor and Decompressor: round trips with reused contexts, lz4 as a raw block, typed errors.
import Testing
@testable import TailcarCore

/// Deterministic test input: log-like text with some seeded noise.
func sampleBody(bytes: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out: [UInt8] = []
    out.reserveCapacity(bytes)
    let line = Array("127.0.0.1 - - [27/Nov/2026:01:50:00 +0000] \"GET /index.html HTTP/1.1\" 200 ".utf8)
    while out.count < bytes {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        out.append(contentsOf: line)
        out.append(contentsOf: Array(String(state >> 40).utf8))
        out.append(0x0A)
    }
    return Array(out[0..<bytes])
}

@Suite("Compressor")
struct CompressorTests {
    @Test("lz4 and zstd round-trip bodies of many sizes with the same context reused", arguments: [BodyCompression.lz4, .zstd, .none])
    func roundTrips(algorithm: BodyCompression) throws {
        let compressor = Compressor(algorithm)
        let decompressor = Decompressor()
        for (index, size) in [0, 1, 17, 4096, 100_000, 600_000, 3].enumerated() {
            let body = sampleBody(bytes: size, seed: UInt64(index))
            try body.withUnsafeBytes { _ = try compressor.compress($0) }
            let packed = compressor.outputBytes
            let back = try packed.withUnsafeBytes { try decompressor.decompress($0, algorithm: algorithm, rawSize: size) }
            #expect(back == body, "size \(size)")
            if algorithm != .none && size >= 4096 { #expect(packed.count < size / 2) }
        }
    }

    @Test("LZ4Acceleration and ZstdLevel change the output and still round-trip; faster settings give bigger bodies")
    func settings() throws {
        let body = sampleBody(bytes: 600_000, seed: 7)
        let decompressor = Decompressor()
        func packed(_ compressor: Compressor) throws -> [UInt8] {
            try body.withUnsafeBytes { _ = try compressor.compress($0) }
            let out = compressor.outputBytes
            let back = try out.withUnsafeBytes {
                try decompressor.decompress($0, algorithm: compressor.algorithm, rawSize: body.count)
            }
            #expect(back == body)
            return out
        }
        let lz4Default = try packed(Compressor(.lz4))
        let lz4Fast = try packed(Compressor(.lz4, lz4Acceleration: 32))
        #expect(lz4Fast.count > lz4Default.count)
        let zstdFast = try packed(Compressor(.zstd, zstdLevel: -5))
        let zstdDefault = try packed(Compressor(.zstd))
        let zstdStrong = try packed(Compressor(.zstd, zstdLevel: 9))
        #expect(zstdFast.count > zstdDefault.count)
        #expect(zstdStrong != zstdDefault)
    }

    @Test("lz4 output is a raw block: no frame magic, and LZ4_decompress_safe takes it as is")
    func lz4IsRawBlock() throws {
        let compressor = Compressor(.lz4)
        let body = sampleBody(bytes: 1000, seed: 9)
        try body.withUnsafeBytes { _ = try compressor.compress($0) }
        #expect(Array(compressor.outputBytes.prefix(4)) != [0x04, 0x22, 0x4D, 0x18])
    }

    @Test("zstd output is a zstd frame")
    func zstdIsFrame() throws {
        let compressor = Compressor(.zstd)
        try sampleBody(bytes: 1000, seed: 3).withUnsafeBytes { _ = try compressor.compress($0) }
        #expect(Array(compressor.outputBytes.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        #expect(BodyCompression.zstd.headerValue == "zstd" && BodyCompression.none.headerValue == nil)
    }

    @Test("corrupt input and a wrong raw size are typed errors")
    func errors() throws {
        let decompressor = Decompressor()
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x01]
        #expect(throws: CompressionError.lz4DecompressFailed(compressedBytes: 6, rawSize: 100)) {
            try garbage.withUnsafeBytes { try decompressor.decompress($0, algorithm: .lz4, rawSize: 100) }
        }
        #expect(throws: CompressionError.self) {
            try garbage.withUnsafeBytes { try decompressor.decompress($0, algorithm: .zstd, rawSize: 100) }
        }
        let compressor = Compressor(.zstd)
        let body = sampleBody(bytes: 500, seed: 1)
        try body.withUnsafeBytes { _ = try compressor.compress($0) }
        let packed = compressor.outputBytes
        #expect(throws: CompressionError.self) {
            try packed.withUnsafeBytes { try decompressor.decompress($0, algorithm: .zstd, rawSize: 400) }
        }
        #expect(throws: CompressionError.sizeMismatch(expected: 5, actual: 6)) {
            try garbage.withUnsafeBytes { try decompressor.decompress($0, algorithm: .none, rawSize: 5) }
        }
    }
}
