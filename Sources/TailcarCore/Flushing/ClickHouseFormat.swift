// ClickHouseFormat.swift
//
// flusher_clickhouse: `INSERT INTO db.table FORMAT JSONEachRow` over ClickHouse's HTTP interface,
// delivered by HTTPBatchFlusher; before the first batch `CREATE DATABASE IF NOT EXISTS` and
// `CREATE TABLE IF NOT EXISTS` with the default schema (README, "flusher_clickhouse"). The body is lz4 or
// zstd in ClickHouse's own compressed blocks (`decompress=1`, ClickHouseBlockCompressor), or gzip
// (`Content-Encoding: gzip`), or plain; every ClickHouse version decodes all four, 18.16 included.
// Credentials go as X-ClickHouse-User / X-ClickHouse-Key (or Basic auth), never in the URL, never in a
// message. What answers mean:
//
//   2xx                                   → delivered
//   401, 403, 516; 404 (Code 60/81: no such table or database); 500 with Code 16 (no such column), 117
//   (unknown field) or 89 (a compression method this server lacks): the settings or the table do not
//   fit                                   → a person must fix it: retried no faster than every 10 s, the
//                                          CREATE statements sent again first
//   400 (a row ClickHouse cannot parse), 413 → split in two until the bad row is alone, then dropped
//   429, other 5xx, network errors        → retried with back-off (at least Retry-After, RetryAfter.swift)
//
// A batch is retried as a whole: one whose answer was lost (a timeout, a reset after the insert) can be
// inserted twice; a plain MergeTree does not deduplicate (README says so).

final class ClickHouseFormat: HTTPBatchFormat {
    private let settings: ClickHouseFlusherSettings
    private let encoder: ClickHouseRowEncoder
    private let codec: Codec
    private let scratch = CompressionScratch()
    private let diagnostics: Diagnostics
    private let name: String
    private let authHeaders: [(name: String, value: String)]
    private let insertTarget: String

    /// What the body goes through.
    private enum Codec {
        case gzip(GzipCompressor)
        case blocks(ClickHouseBlockCompressor)
        case none
    }

    init(settings: ClickHouseFlusherSettings, name: String, diagnostics: Diagnostics) throws(GzipError) {
        self.settings = settings
        self.name = name
        self.diagnostics = diagnostics
        encoder = ClickHouseRowEncoder(columns: settings.columns)
        switch settings.compression {
        case .lz4: codec = .blocks(ClickHouseBlockCompressor(.lz4))
        case .zstd: codec = .blocks(ClickHouseBlockCompressor(.zstd))
        case .gzip: codec = .gzip(try GzipCompressor(level: 1))
        case .none: codec = .none
        }
        authHeaders = Self.authHeaders(settings)
        insertTarget = "/?query=" + percentEncoded("INSERT INTO \(Self.qualifiedTable(settings)) FORMAT JSONEachRow")
    }

    /// X-ClickHouse-User / X-ClickHouse-Key, or Basic auth.
    static func authHeaders(_ settings: ClickHouseFlusherSettings) -> [(name: String, value: String)] {
        switch settings.auth {
        case .headers:
            return [("X-ClickHouse-User", settings.user)]
                + (settings.password.isEmpty ? [] : [("X-ClickHouse-Key", settings.password)])
        case .basic:
            return [("Authorization", "Basic " + base64(Array("\(settings.user):\(settings.password)".utf8)))]
        }
    }

    static func qualifiedTable(_ settings: ClickHouseFlusherSettings) -> String {
        "`\(settings.database)`.`\(settings.table)`"
    }

    /// The statements that make the database and the default table when missing.
    static func createStatements(_ settings: ClickHouseFlusherSettings) -> [String] {
        let columns = settings.columns.map { "`\($0)` String, " }.joined()
        return [
            "CREATE DATABASE IF NOT EXISTS `\(settings.database)`",
            "CREATE TABLE IF NOT EXISTS \(qualifiedTable(settings)) (`time` DateTime, `time_ns` UInt32, `path` String, "
                + "`topic` String, `tags` Nested(`key` String, `value` String), \(columns)"
                + "`fields` Nested(`key` String, `value` String)) ENGINE = MergeTree PARTITION BY toYYYYMM(`time`) "
                + "ORDER BY (`path`, `time`)",
        ]
    }

    var setupRequests: [HTTPSetupRequest] {
        guard settings.createTable else { return [] }
        return Self.createStatements(settings).map { statement in
            HTTPSetupRequest(what: String(statement.prefix { $0 != "(" }).trimmingWhitespace.description, method: "POST",
                             target: "/", headers: authHeaders + [("Content-Type", "text/plain; charset=utf-8")],
                             body: Array(statement.utf8))
        }
    }

    func encode(_ slices: [RecordSlice], observed: [UInt64]) -> HTTPBatchBody {
        encoder.encode(slices)
        return encoder.withBytes { raw in
            switch codec {
            case .gzip(let gzip): return sealed(scratch.seal(raw, with: gzip))
            case .blocks(let blocks): return sealed(scratch.seal(raw, with: blocks))
            case .none: return scratch.seal(raw, with: GzipCompressor?.none).body
            }
        }
    }

    /// The body; a compression failure (never expected) is said, and the raw bytes go instead.
    private func sealed<Failure: Error>(_ sealed: (body: HTTPBatchBody, failure: Failure?)) -> HTTPBatchBody {
        if let failure = sealed.failure {
            diagnostics.record(.flushFailed(flusher: name, reason: "\(settings.compression) compression failed, "
                                                + "sending uncompressed: \(failure)"))
        }
        return sealed.body
    }

    func request(body: HTTPBatchBody) -> (method: String, target: String, headers: [(name: String, value: String)]) {
        var headers = authHeaders
        headers.append(("Content-Type", "application/x-ndjson"))
        guard body.isCompressed else { return ("POST", insertTarget, headers) }
        switch codec {
        case .gzip: headers.append(("Content-Encoding", "gzip"))
        case .blocks: return ("POST", insertTarget + "&decompress=1", headers)
        case .none: break
        }
        return ("POST", insertTarget, headers)
    }

    func verdict(_ response: HTTPResponse) -> HTTPBatchVerdict {
        let status = response.status
        if (200..<300).contains(status) { return .delivered(rejected: 0, reason: "") }
        let code = Self.exceptionCode(response.body)
        let reason = describe(response)
        switch status {
        case 401, 403, 404, 516: return .needsOperator(reason)
        case 500 where code == 16 || code == 117 || code == 89: return .needsOperator(reason)
        case 400, 413: return .tooLarge(reason)
        default: return .retry(reason, afterMilliseconds: RetryAfter.milliseconds(response.header("Retry-After")))
        }
    }

    /// The number after `Code: ` at the start of a ClickHouse error body.
    static func exceptionCode(_ body: [UInt8]) -> Int? {
        let prefix = Array("Code: ".utf8)
        guard body.starts(with: prefix) else { return nil }
        let digits = body.dropFirst(prefix.count).prefix { (0x30...0x39).contains($0) }
        return Int(String(decoding: digits, as: UTF8.self))
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters (a query parameter's value).
func percentEncoded(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }
    return out
}

/// Standard base64 with padding (Basic auth).
func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
        let chunk = bytes[index..<min(index + 3, bytes.count)]
        var value = 0
        for (offset, byte) in chunk.enumerated() { value |= Int(byte) << (16 - 8 * offset) }
        for position in 0..<4 {
            out.append(position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 63] : UInt8(ascii: "="))
        }
        index += 3
    }
    return String(decoding: out, as: UTF8.self)
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
