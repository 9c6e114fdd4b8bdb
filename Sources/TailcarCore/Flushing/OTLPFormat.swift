// OTLPFormat.swift
//
// flusher_otlp: OTLP/HTTP logs (`POST {Endpoint}/v1/logs`, protobuf ExportLogsServiceRequest, gzip or
// none, the configured headers), delivered by HTTPBatchFlusher. What answers mean follows the OTLP/HTTP
// specification (and README, "flusher_otlp"):
//
//   2xx                                  → delivered; ExportLogsServiceResponse.partial_success's
//                                          rejected_log_records are counted and logged, not retried
//   429, 5xx, network errors, garbage    → retried with back-off, at least Retry-After (seconds or an
//                                          HTTP-date, at most 5 minutes) when given
//   401, 403, 404                        → a person must fix it: retried no faster than every 10 s
//   413                                  → split in two and both halves sent
//   other 4xx                            → dropped, counted and logged (the spec: not retryable)
//
// Error bodies are google.rpc.Status; its message is logged. Owns the request's shape and the answer's
// meaning; the protobuf layout of the logs is OTLPLogsEncoder's.

final class OTLPFormat: HTTPBatchFormat {
    private let settings: OTLPFlusherSettings
    private var encoder: OTLPLogsEncoder
    private let gzip: GzipCompressor?
    private let scratch = CompressionScratch()
    private let headers: [(name: String, value: String)]
    private let diagnostics: Diagnostics
    private let name: String

    init(settings: OTLPFlusherSettings, name: String, diagnostics: Diagnostics) throws(GzipError) {
        self.settings = settings
        self.name = name
        self.diagnostics = diagnostics
        encoder = OTLPLogsEncoder(bodyKey: settings.bodyKey)
        gzip = settings.compression == .gzip ? try GzipCompressor(level: 1) : nil
        var headers: [(name: String, value: String)] = [("Content-Type", "application/x-protobuf")]
        if gzip != nil { headers.append(("Content-Encoding", "gzip")) }
        headers += settings.headers.map { ($0.name, $0.value) }
        self.headers = headers
    }

    func encode(_ slices: [RecordSlice], observed: [UInt64]) -> HTTPBatchBody {
        encoder.encode(slices, observed: observed)
        let sealed = encoder.withEncoded { scratch.seal($0, with: gzip) }
        if let failure = sealed.failure {
            // Never expected (the scratch is sized by the bound); the body goes out as it is, and says so.
            diagnostics.record(.flushFailed(flusher: name, reason: "gzip failed, sending uncompressed: \(failure)"))
        }
        return sealed.body
    }

    func request(body: HTTPBatchBody) -> (method: String, target: String, headers: [(name: String, value: String)]) {
        ("POST", settings.path, body.isCompressed ? headers : headers.filter { $0.name != "Content-Encoding" })
    }

    func verdict(_ response: HTTPResponse) -> HTTPBatchVerdict {
        let status = response.status
        if (200..<300).contains(status) {
            let (rejected, message) = OTLPResponse.partialSuccess(response.body)
            return .delivered(rejected: Int(clamping: rejected), reason: message)
        }
        let reason = describe(response, message: OTLPResponse.statusMessage(response.body))
        switch status {
        case 429, 500...599:
            return .retry(reason, afterMilliseconds: RetryAfter.milliseconds(response.header("Retry-After")))
        case 401, 403, 404: return .needsOperator(reason)
        case 413: return .tooLarge(reason)
        default: return .rejected(reason)
        }
    }
}

/// Reading an OTLP collector's answers: ExportLogsServiceResponse and google.rpc.Status.
enum OTLPResponse {
    /// `partial_success` (field 1) of an ExportLogsServiceResponse: `rejected_log_records` (field 1) and
    /// `error_message` (field 2). A body that does not decode counts as full success: the status said so.
    static func partialSuccess(_ body: [UInt8]) -> (rejected: UInt64, message: String) {
        var rejected: UInt64 = 0
        var message = ""
        for field in ProtobufReader.fields(body) where field.number == 1 {
            guard case .bytes(let inner) = field.value else { continue }
            for innerField in ProtobufReader.fields(Array(inner)) {
                switch (innerField.number, innerField.value) {
                case (1, .varint(let count)): rejected = count
                case (2, .bytes(let text)): message = String(decoding: text, as: UTF8.self)
                default: break
                }
            }
        }
        return (rejected, message)
    }

    /// The `message` (field 2) of a google.rpc.Status body, if the body is one.
    static func statusMessage(_ body: [UInt8]) -> String? {
        for field in ProtobufReader.fields(body) where field.number == 2 {
            if case .bytes(let text) = field.value, let message = String(validating: text, as: UTF8.self),
               !message.isEmpty, message.utf8.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }) {
                return message
            }
        }
        return nil
    }
}
