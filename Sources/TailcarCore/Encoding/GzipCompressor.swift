// GzipCompressor.swift
//
// gzip request bodies (RFC 1952, what HTTP's `Content-Encoding: gzip` means) for flusher_otlp and
// flusher_clickhouse, through zlib with one reused deflate stream and output buffer; and the matching
// decompressor for tests. Owns the C state of zlib; does not own the choice to compress or the headers.

import CZlib

/// What zlib reported.
public enum GzipError: Error, Equatable, Sendable, CustomStringConvertible {
    case initFailed(code: Int32)
    case deflateFailed(code: Int32)
    case inflateFailed(code: Int32)
    /// The input ended before the gzip stream did.
    case truncated

    public var description: String {
        switch self {
        case .initFailed(let code): return "zlib init failed (\(code))"
        case .deflateFailed(let code): return "zlib deflate failed (\(code))"
        case .inflateFailed(let code): return "zlib inflate failed (\(code)): not a valid gzip stream"
        case .truncated: return "gzip stream truncated"
        }
    }
}

/// Compresses whole bodies into gzip members at one level (1, as `gzip -1`, by default). Bound to one thread.
public final class GzipCompressor {
    public let level: Int32
    private var stream = z_stream()
    private var output: [UInt8] = []
    private var isReady = false

    public init(level: Int32 = 1) throws(GzipError) {
        self.level = level
        let code = tailcar_deflate_init_gzip(&stream, level)
        guard code == Z_OK else { throw .initFailed(code: code) }
        isReady = true
    }

    deinit { if isReady { deflateEnd(&stream) } }

    /// One gzip member holding `input`.
    public func compress(_ input: UnsafeRawBufferPointer) throws(GzipError) -> [UInt8] {
        let reset = deflateReset(&stream)
        guard reset == Z_OK else { throw .deflateFailed(code: reset) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let result: (code: Int32, written: Int) = output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            let code = deflate(&stream, Z_FINISH)
            return (code, out.count - Int(stream.avail_out))
        }
        stream.next_in = nil
        stream.next_out = nil
        guard result.code == Z_STREAM_END else { throw .deflateFailed(code: result.code) }
        return Array(output[0..<result.written])
    }
}

/// Decodes gzip bodies (tests; a receiver's view of what was sent).
public enum GzipDecompressor {
    public static func decompress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        let initCode = tailcar_inflate_init_gzip(&stream)
        guard initCode == Z_OK else { throw .initFailed(code: initCode) }
        defer { inflateEnd(&stream) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var input = input
        let code: Int32 = input.withUnsafeMutableBytes { inBuffer in
            stream.next_in = inBuffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(inBuffer.count)
            while true {
                let (code, produced) = chunk.withUnsafeMutableBytes { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(out.count)
                    let code = inflate(&stream, Z_NO_FLUSH)
                    return (code, out.count - Int(stream.avail_out))
                }
                result.append(contentsOf: chunk[0..<produced])
                if code != Z_OK { return code }
                if stream.avail_in == 0 && produced == 0 { return Z_BUF_ERROR }
            }
        }
        switch code {
        case Z_STREAM_END: return result
        case Z_BUF_ERROR: throw .truncated
        default: throw .inflateFailed(code: code)
        }
    }
}
