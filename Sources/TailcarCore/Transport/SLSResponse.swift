// SLSResponse.swift
//
// What an SLS answer means: success, or an error code and message from the JSON body
// `{"errorCode": "...", "errorMessage": "..."}` with the x-log-requestid header, classified per
// shared/docs/SLS.md into retry / a person must act / the data cannot be accepted. Owns the tolerant
// JSON field extraction and the classification table; does not own retry timing or batching.

/// What the flusher should do with a batch after an answer (or no answer).
public enum SLSDisposition: Equatable, Sendable {
    case delivered
    /// Network errors, 5xx, 429, quota and busy codes: send the same batch again later.
    case retry
    /// Credentials, signature, missing project or logstore: nothing changes until a person acts.
    case needsOperator
    /// PostBodyInvalid, PostBodyTooLarge, InvalidTimestamp...: this batch as sent will never be accepted.
    case dataRejected
}

/// An SLS answer that was not a success.
public struct SLSError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Int
    /// `errorCode` from the body; empty when the body was not SLS JSON.
    public var code: String
    public var message: String
    /// `x-log-requestid`; nil when absent (then the answer likely did not come from SLS).
    public var requestID: String?

    public init(status: Int, code: String, message: String, requestID: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    public var description: String {
        "SLS \(status) \(code.isEmpty ? "(no error code)" : code): \(message) [request \(requestID ?? "none")]"
    }

    static let retryCodes: Set<String> = ["WriteQuotaExceed", "ShardWriteQuotaExceed", "ServerBusy",
                                          "InternalServerError", "RequestTimeout"]
    static let operatorCodes: Set<String> = ["Unauthorized", "SignatureNotMatch", "InvalidAccessKeyId",
                                             "ProjectNotExist", "LogStoreNotExist", "ProjectForbidden"]
    static let rejectedCodes: Set<String> = ["PostBodyInvalid", "PostBodyTooLarge", "InvalidTimestamp",
                                             "InvalidEncoding", "InvalidKey", "PostBodyUncompressError",
                                             "InvalidCompressType", "MissingBodyRawSize", "InvalidBodyRawSize"]

    /// Known codes decide first; otherwise 5xx and 429 retry, 401/403/404 need a person, other 4xx reject.
    public var disposition: SLSDisposition {
        if Self.retryCodes.contains(code) { return .retry }
        if Self.operatorCodes.contains(code) { return .needsOperator }
        if Self.rejectedCodes.contains(code) { return .dataRejected }
        switch status {
        case 500...599, 429: return .retry
        case 401, 403, 404: return .needsOperator
        case 400...499: return .dataRejected
        default: return .retry
        }
    }
}

public enum SLSResponse {
    /// nil for a 200 (delivered); otherwise the error the answer carries.
    public static func error(from response: HTTPResponse) -> SLSError? {
        guard response.status != 200 else { return nil }
        let body = response.body
        return SLSError(status: response.status, code: jsonStringField("errorCode", in: body) ?? "",
                        message: jsonStringField("errorMessage", in: body) ?? printable(body),
                        requestID: response.header("x-log-requestid"))
    }

    public static func disposition(of response: HTTPResponse) -> SLSDisposition {
        error(from: response)?.disposition ?? .delivered
    }

    /// The string value of `"name": "..."` anywhere in `json`, with the common escapes decoded. Tolerant:
    /// it does not validate the rest of the document; nil when the field is absent or not a string.
    public static func jsonStringField(_ name: String, in json: [UInt8]) -> String? {
        let needle = [UInt8(ascii: "\"")] + Array(name.utf8) + [UInt8(ascii: "\"")]
        var start = 0
        while start + needle.count <= json.count {
            guard json[start..<(start + needle.count)].elementsEqual(needle) else {
                start += 1
                continue
            }
            var index = start + needle.count
            while index < json.count, json[index] == 0x20 || json[index] == 0x09 || json[index] == 0x0A
                || json[index] == 0x0D { index += 1 }
            guard index < json.count, json[index] == UInt8(ascii: ":") else {
                start += 1
                continue
            }
            index += 1
            while index < json.count, json[index] == 0x20 || json[index] == 0x09 || json[index] == 0x0A
                || json[index] == 0x0D { index += 1 }
            guard index < json.count, json[index] == UInt8(ascii: "\"") else { return nil }
            return decodeJSONString(json, from: index + 1)
        }
        return nil
    }

    static func decodeJSONString(_ json: [UInt8], from: Int) -> String? {
        var out: [UInt8] = []
        var index = from
        while index < json.count {
            let byte = json[index]
            if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if byte == UInt8(ascii: "\\"), index + 1 < json.count {
                index += 1
                switch json[index] {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "u"):
                    guard index + 4 < json.count else { return nil }
                    var scalar = 0
                    for digit in json[(index + 1)...(index + 4)] {
                        guard let value = hexValue(digit) else { return nil }
                        scalar = scalar * 16 + value
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "?").utf8))
                    index += 4
                default: out.append(json[index])
                }
            } else {
                out.append(byte)
            }
            index += 1
        }
        return nil
    }
}
