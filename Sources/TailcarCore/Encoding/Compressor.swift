// Compressor.swift
//
// Request-body compression for SLS: lz4 as a raw block (no frame, no size prefix: the receiver learns
// the size from x-log-bodyrawsize) at an acceleration (1, the SDKs' and `lz4 -1`'s, by default) and zstd
// as a normal frame at a level (1 by default), each with a reused context, writing into the caller's
// buffer or a reused one; plus the matching decompressors (tests and receivers). Owns the C state of lz4
// and zstd; does not own the choice of algorithm (SLSFlusherSettings.compression) or the headers.

import CLZ4
import CZstd
import Glibc

/// What went wrong compressing or decompressing a body.
public enum CompressionError: Error, Equatable, Sendable {
    /// lz4 takes at most LZ4_MAX_INPUT_SIZE bytes.
    case inputTooLarge(bytes: Int, limit: Int)
    /// LZ4_compress_fast_extState returned 0.
    case lz4CompressFailed(inputBytes: Int)
    /// ZSTD_compressCCtx reported an error.
    case zstdCompressFailed(reason: String)
    /// LZ4_decompress_safe rejected the block (corrupt, or not `rawSize` bytes long once decoded).
    case lz4DecompressFailed(compressedBytes: Int, rawSize: Int)
    /// ZSTD_decompressDCtx reported an error.
    case zstdDecompressFailed(reason: String)
    /// The body decoded to a size other than x-log-bodyrawsize.
    case sizeMismatch(expected: Int, actual: Int)
}

/// The wire algorithm, as named in `x-log-compresstype` (nil header for `.none`).
public enum BodyCompression: String, Sendable {
    case lz4, zstd, none

    public init(_ setting: SLSFlusherSettings.Compression) {
        switch setting {
        case .lz4: self = .lz4
        case .zstd: self = .zstd
        case .none: self = .none
        }
    }

    /// The `x-log-compresstype` value, or nil when the header is left out.
    public var headerValue: String? { self == .none ? nil : rawValue }
}

/// Compresses request bodies with one algorithm, reusing its context and output buffer.
/// Bound to one thread (not `Sendable`).
public final class Compressor {
    public let algorithm: BodyCompression
    /// zstd level; the SDK and iLogtail use 1.
    public let zstdLevel: Int32
    /// lz4 acceleration: 1 is `lz4 -1`; each step up trades ratio for speed.
    public let lz4Acceleration: Int32
    private var lz4State: UnsafeMutableRawPointer?
    private var zstdContext: OpaquePointer?
    private var output: [UInt8] = []
    /// Bytes of the last result at the front of the output buffer.
    public private(set) var count: Int = 0

    public init(_ algorithm: BodyCompression, zstdLevel: Int32 = 1, lz4Acceleration: Int32 = 1) {
        self.algorithm = algorithm
        self.zstdLevel = zstdLevel
        self.lz4Acceleration = lz4Acceleration
        switch algorithm {
        case .lz4: lz4State = UnsafeMutableRawPointer.allocate(byteCount: Int(LZ4_sizeofState()), alignment: 16)
        case .zstd: zstdContext = ZSTD_createCCtx()
        case .none: break
        }
    }

    deinit {
        lz4State?.deallocate()
        if let zstdContext { ZSTD_freeCCtx(zstdContext) }
    }

    /// Compresses `input`; returns the compressed size. Read the bytes with `withOutput`; the previous
    /// result is overwritten. `.none` copies the input.
    @discardableResult
    public func compress(_ input: UnsafeRawBufferPointer) throws(CompressionError) -> Int {
        grow(to: bound(forInput: input.count))
        let result: Result<Int, CompressionError> = output.withUnsafeMutableBytes { out in
            do throws(CompressionError) { return .success(try compress(input, into: out)) } catch { return .failure(error) }
        }
        count = try result.get()
        return count
    }

    /// The most bytes `compress(_:into:)` may write for `inputBytes` of input.
    public func bound(forInput inputBytes: Int) -> Int {
        switch algorithm {
        case .none: return inputBytes
        case .lz4: return inputBytes <= Int(LZ4_MAX_INPUT_SIZE) ? Int(LZ4_compressBound(Int32(inputBytes))) : inputBytes
        case .zstd: return ZSTD_compressBound(inputBytes)
        }
    }

    /// Compresses `input` into `destination`, which holds at least `bound(forInput:)` bytes; returns the
    /// compressed size. `.none` copies the input.
    public func compress(_ input: UnsafeRawBufferPointer,
                         into destination: UnsafeMutableRawBufferPointer) throws(CompressionError) -> Int {
        precondition(destination.count >= bound(forInput: input.count), "compression destination below the bound")
        switch algorithm {
        case .none:
            if input.count > 0 { destination.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: input.count) }
            return input.count
        case .lz4:
            return try compressLZ4(input, into: destination)
        case .zstd:
            return try compressZstd(input, into: destination)
        }
    }

    /// The last result. The pointer must not escape `body`.
    public func withOutput<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// A copy of the last result (tests and diagnostics).
    public var outputBytes: [UInt8] { Array(output[0..<count]) }

    private func grow(to bytes: Int) {
        if output.count < bytes { output = [UInt8](repeating: 0, count: max(bytes, output.count * 2)) }
    }

    private func compressLZ4(_ input: UnsafeRawBufferPointer,
                             into out: UnsafeMutableRawBufferPointer) throws(CompressionError) -> Int {
        let limit = Int(LZ4_MAX_INPUT_SIZE)
        guard input.count <= limit else { throw .inputTooLarge(bytes: input.count, limit: limit) }
        let written = LZ4_compress_fast_extState(lz4State!, input.baseAddress?.assumingMemoryBound(to: CChar.self),
                                                 out.baseAddress!.assumingMemoryBound(to: CChar.self),
                                                 Int32(input.count), Int32(min(out.count, Int(Int32.max))),
                                                 lz4Acceleration)
        guard written > 0 || input.count == 0 else { throw .lz4CompressFailed(inputBytes: input.count) }
        return Int(written)
    }

    private func compressZstd(_ input: UnsafeRawBufferPointer,
                              into out: UnsafeMutableRawBufferPointer) throws(CompressionError) -> Int {
        let written = ZSTD_compressCCtx(zstdContext!, out.baseAddress, out.count, input.baseAddress, input.count,
                                        zstdLevel)
        if ZSTD_isError(written) != 0 { throw .zstdCompressFailed(reason: String(cString: ZSTD_getErrorName(written))) }
        return written
    }
}

/// Decodes bodies compressed by `Compressor` (or by the SDKs). Bound to one thread.
public final class Decompressor {
    private var zstdContext: OpaquePointer? = ZSTD_createDCtx()

    public init() {}

    deinit { if let zstdContext { ZSTD_freeDCtx(zstdContext) } }

    /// Decodes `input`, which must expand to exactly `rawSize` bytes (x-log-bodyrawsize).
    public func decompress(_ input: UnsafeRawBufferPointer, algorithm: BodyCompression,
                           rawSize: Int) throws(CompressionError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rawSize)
        switch algorithm {
        case .none:
            guard input.count == rawSize else { throw .sizeMismatch(expected: rawSize, actual: input.count) }
            out = Array(input)
        case .lz4:
            let produced = out.withUnsafeMutableBytes { dst in
                LZ4_decompress_safe(input.baseAddress?.assumingMemoryBound(to: CChar.self),
                                    dst.baseAddress?.assumingMemoryBound(to: CChar.self),
                                    Int32(input.count), Int32(rawSize))
            }
            guard produced >= 0 else { throw .lz4DecompressFailed(compressedBytes: input.count, rawSize: rawSize) }
            guard Int(produced) == rawSize else { throw .sizeMismatch(expected: rawSize, actual: Int(produced)) }
        case .zstd:
            let context = zstdContext!
            let produced = out.withUnsafeMutableBytes { dst in
                ZSTD_decompressDCtx(context, dst.baseAddress, dst.count, input.baseAddress, input.count)
            }
            if ZSTD_isError(produced) != 0 {
                throw .zstdDecompressFailed(reason: String(cString: ZSTD_getErrorName(produced)))
            }
            guard produced == rawSize else { throw .sizeMismatch(expected: rawSize, actual: produced) }
        }
        return out
    }
}
