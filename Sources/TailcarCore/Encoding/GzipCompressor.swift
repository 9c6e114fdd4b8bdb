// GzipCompressor.swift
//
// gzip request bodies (RFC 1952, what HTTP's `Content-Encoding: gzip` means) for flusher_otlp and
// flusher_clickhouse, through libdeflate: one whole-buffer call per body (no streaming state to reset),
// into the caller's buffer sized by `bound(forInput:)`, with one reused compressor per flusher; and the
// matching decompressor for tests. Owns the C state of libdeflate; does not own the choice to compress
// or the headers.

import CLibDeflate

/// What libdeflate reported.
public enum GzipError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libdeflate_alloc_compressor or _decompressor returned NULL (no memory, or a level outside 0...12).
    case initFailed(level: Int32)
    /// libdeflate_gzip_compress wrote nothing: the output buffer was below the bound.
    case outputTooSmall(inputBytes: Int, outputBytes: Int)
    /// libdeflate_gzip_decompress's result code (1 bad data, 2 short output, 3 insufficient space).
    case decompressFailed(code: Int32)
    /// The input ended before the gzip stream did.
    case truncated

    public var description: String {
        switch self {
        case .initFailed(let level): return "libdeflate init failed (level \(level))"
        case .outputTooSmall(let input, let output):
            return "gzip of \(input) bytes did not fit in \(output) bytes"
        case .decompressFailed(let code): return "gzip decode failed (libdeflate result \(code)): not a valid gzip stream"
        case .truncated: return "gzip stream truncated"
        }
    }
}

/// Compresses whole bodies into gzip members at one level (1, as `gzip -1`, by default). Bound to one thread.
public final class GzipCompressor {
    public let level: Int32
    private let compressor: OpaquePointer
    private var output: [UInt8] = []

    public init(level: Int32 = 1) throws(GzipError) {
        self.level = level
        guard let made = libdeflate_alloc_compressor(level) else { throw .initFailed(level: level) }
        compressor = made
    }

    deinit { libdeflate_free_compressor(compressor) }

    /// The most bytes one gzip member of `inputBytes` can take.
    public func bound(forInput inputBytes: Int) -> Int {
        libdeflate_gzip_compress_bound(compressor, inputBytes)
    }

    /// Writes one gzip member holding `input` into `destination` (at least `bound(forInput:)` bytes);
    /// returns its size.
    public func compress(_ input: UnsafeRawBufferPointer,
                         into destination: UnsafeMutableRawBufferPointer) throws(GzipError) -> Int {
        let written = libdeflate_gzip_compress(compressor, input.baseAddress, input.count, destination.baseAddress,
                                               destination.count)
        guard written > 0 else { throw .outputTooSmall(inputBytes: input.count, outputBytes: destination.count) }
        return written
    }

    /// One gzip member holding `input`, as a new array (tests and setup requests).
    public func compress(_ input: UnsafeRawBufferPointer) throws(GzipError) -> [UInt8] {
        let bound = bound(forInput: input.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let result: Result<Int, GzipError> = output.withUnsafeMutableBytes { out in
            do throws(GzipError) { return .success(try compress(input, into: out)) } catch { return .failure(error) }
        }
        return Array(output[0..<(try result.get())])
    }
}

/// Decodes gzip bodies (tests; a receiver's view of what was sent). One member, up to 1 GiB decoded.
public enum GzipDecompressor {
    static let limit = 1 << 30

    public static func decompress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        // A member is at least a 10-byte header and an 8-byte trailer (CRC32, ISIZE).
        guard input.count >= 18 else { throw .truncated }
        guard let decompressor = libdeflate_alloc_decompressor() else { throw .initFailed(level: 0) }
        defer { libdeflate_free_decompressor(decompressor) }
        // ISIZE, the trailer's size modulo 2^32, is where the output starts; a larger one is grown to.
        var size = input[input.count - 4..<input.count].reversed().reduce(0) { $0 << 8 | Int($1) }
        while true {
            var out = [UInt8](repeating: 0, count: max(size, 1))
            var produced = 0
            let code = input.withUnsafeBytes { source in
                out.withUnsafeMutableBytes { destination in
                    libdeflate_gzip_decompress(decompressor, source.baseAddress, source.count, destination.baseAddress,
                                               destination.count, &produced)
                }
            }
            switch code {
            case LIBDEFLATE_SUCCESS:
                return Array(out[0..<produced])
            case LIBDEFLATE_INSUFFICIENT_SPACE where size < limit:
                size = min(max(size, 4096) * 2, limit)
            default:
                throw .decompressFailed(code: Int32(code.rawValue))
            }
        }
    }
}
