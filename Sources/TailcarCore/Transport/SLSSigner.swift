// SLSSigner.swift
//
// The SLS v1 request signature (HMAC-SHA1, "LOG id:signature") exactly as aliyun-log-python-sdk's
// auth.AuthV1 computes it, the Content-MD5 and Date values it signs, and the full header list of a
// PutLogs request. Owns credentials handling and canonicalisation; does not own the body (Encoding/),
// sending, or retries. Hashes come from OpenSSL libcrypto, never hand-rolled.
//
// String to sign, for POST /logstores/app/shards/lb:
//
//   POST\n<CONTENT-MD5>\napplication/x-protobuf\n<Date>\n
//   x-log-apiversion:0.6.0\nx-log-bodyrawsize:50\nx-log-compresstype:lz4\nx-log-signaturemethod:hmac-sha1\n
//   /logstores/app/shards/lb

import CCrypto
import Glibc

/// An AccessKey pair, optionally with an STS token. `description` never shows the secret or the token.
public struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var accessKeySecret: String
    public var securityToken: String?

    public init(accessKeyID: String, accessKeySecret: String, securityToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.accessKeySecret = accessKeySecret
        self.securityToken = securityToken
    }

    public var description: String {
        "Credentials(accessKeyID: \(accessKeyID), secret: <redacted>\(securityToken == nil ? "" : ", token: <redacted>"))"
    }

    public var debugDescription: String { description }

    /// `dump` and debuggers see only the key id.
    public var customMirror: Mirror { Mirror(self, children: ["accessKeyID": accessKeyID], displayStyle: .struct) }
}

public enum SLSSigner {
    /// Upper-case hex MD5 of `body` (the Content-MD5 value SLS expects; not base64).
    public static func contentMD5(_ body: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { out in
            EVP_Digest(body.baseAddress ?? UnsafeRawPointer(out.baseAddress!), body.count, out.baseAddress, &length,
                       EVP_md5(), nil)
        }
        precondition(ok == 1 && length == 16, "EVP_Digest(MD5) failed")
        return hex(digest[0..<16], upper: true)
    }

    /// base64(HMAC-SHA1(key, message)).
    public static func hmacSHA1Base64(key: String, message: String) -> String {
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let keyBytes = Array(key.utf8)
        let messageBytes = Array(message.utf8)
        let result = mac.withUnsafeMutableBufferPointer { out in
            keyBytes.withUnsafeBytes { k in
                messageBytes.withUnsafeBytes { m in
                    HMAC(EVP_sha1(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self),
                         m.count, out.baseAddress, &length)
                }
            }
        }
        precondition(result != nil && length == 20, "HMAC(SHA1) failed")
        return Base64.encode(mac[0..<20])
    }

    /// RFC 1123 date in GMT, C locale: `Tue, 01 Dec 2026 10:00:00 GMT` (the SDK's `%a, %d %b %Y %H:%M:%S GMT`).
    public static func httpDate(epochSeconds: Int) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// The v1 string to sign. `headers` are all request headers (any case); only `x-log-*` (not
    /// `x-log-meta-*`) and `x-acs-*` take part, lower-cased, values trimmed, sorted by name.
    public static func stringToSign(method: String, contentMD5: String, contentType: String, date: String,
                                    headers: [(name: String, value: String)], path: String,
                                    query: [(key: String, value: String)]) -> String {
        var signed: [(String, String)] = []
        for header in headers {
            let name = header.name.lowercased()
            let included = (name.hasPrefix("x-log-") && !name.hasPrefix("x-log-meta-")) || name.hasPrefix("x-acs-")
            if included { signed.append((name, trim(header.value))) }
        }
        signed.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var text = "\(method)\n\(contentMD5)\n\(contentType)\n\(date)\n"
        for (name, value) in signed { text += "\(name):\(value)\n" }
        text += path
        if !query.isEmpty {
            let sorted = query.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            text += "?" + sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        }
        return text
    }

    /// `LOG <id>:<base64 signature>`.
    /// The headers of one signed request in the order aliyun-log-python-sdk sends them: Host, Content-Type
    /// (only when given), Content-Length, Date, x-log-apiversion 0.6.0, x-log-bodyrawsize, Content-MD5
    /// (upper-case hex of `body` as sent; only with a body, and an empty line is signed in its place),
    /// x-log-compresstype (when given), x-log-signaturemethod hmac-sha1, x-acs-security-token (STS only),
    /// Authorization, and x-log-date (a copy of Date added after signing, as the SDK does; not signed).
    public static func signedHeaders(method: String, path: String, host: String, contentType: String?,
                                     body: UnsafeRawBufferPointer, rawSize: Int, compressType: String?,
                                     credentials: Credentials, epochSeconds: Int,
                                     query: [(key: String, value: String)] = []) -> [(name: String, value: String)] {
        signedHeaders(method: method, path: path, host: host, contentType: contentType, bodyCount: body.count,
                      contentMD5: body.isEmpty ? "" : contentMD5(body), rawSize: rawSize, compressType: compressType,
                      credentials: credentials, epochSeconds: epochSeconds, query: query)
    }

    /// The same headers for a body whose Content-MD5 was computed already (where the body was compressed).
    public static func signedHeaders(method: String, path: String, host: String, contentType: String?,
                                     bodyCount: Int, contentMD5 md5: String, rawSize: Int, compressType: String?,
                                     credentials: Credentials, epochSeconds: Int,
                                     query: [(key: String, value: String)] = []) -> [(name: String, value: String)] {
        let date = httpDate(epochSeconds: epochSeconds)
        var list: [(name: String, value: String)] = [("Host", host)]
        if let contentType { list.append(("Content-Type", contentType)) }
        list += [("Content-Length", String(bodyCount)), ("Date", date), ("x-log-apiversion", "0.6.0"),
                 ("x-log-bodyrawsize", String(rawSize))]
        if !md5.isEmpty { list.append(("Content-MD5", md5)) }
        if let compressType { list.append(("x-log-compresstype", compressType)) }
        list.append(("x-log-signaturemethod", "hmac-sha1"))
        if let token = credentials.securityToken { list.append(("x-acs-security-token", token)) }
        let text = stringToSign(method: method, contentMD5: md5, contentType: contentType ?? "", date: date,
                                headers: list, path: path, query: query)
        list.append(("Authorization", authorization(credentials: credentials, stringToSign: text)))
        list.append(("x-log-date", date))
        return list
    }

    public static func authorization(credentials: Credentials, stringToSign: String) -> String {
        "LOG \(credentials.accessKeyID):\(hmacSHA1Base64(key: credentials.accessKeySecret, message: stringToSign))"
    }

    static func trim(_ value: String) -> String {
        var bytes = Substring(value)
        while let first = bytes.first, first == " " || first == "\t" { bytes.removeFirst() }
        while let last = bytes.last, last == " " || last == "\t" { bytes.removeLast() }
        return String(bytes)
    }

    static func hex(_ bytes: ArraySlice<UInt8>, upper: Bool) -> String {
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Standard base64 (RFC 4648, with padding).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let b0 = UInt32(input[index])
            let b1 = index + 1 < input.count ? UInt32(input[index + 1]) : 0
            let b2 = index + 2 < input.count ? UInt32(input[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(index + 1 < input.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < input.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
