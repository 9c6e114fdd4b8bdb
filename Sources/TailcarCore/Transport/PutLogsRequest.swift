// PutLogsRequest.swift
//
// The request line and headers of one SLS PutLogs call, signed with v1. Owns which headers a PutLogs
// request carries and their order; does not own the body bytes (the caller passes the compressed body
// and its raw size) or sending.

/// A signed `POST /logstores/{logstore}/shards/lb`.
public struct PutLogsRequest: Sendable {
    public var method: String
    /// The path, e.g. `/logstores/app/shards/lb`.
    public var path: String
    /// Header names and values in sending order (Host first, Authorization last).
    public var headers: [(name: String, value: String)]

    /// Builds the headers the Python SDK sends for `put_logs`:
    /// Host `{project}.{endpoint}`, Content-Type, Content-Length, Content-MD5 (upper-case hex of `body`
    /// as sent), Date, x-log-apiversion 0.6.0, x-log-bodyrawsize, x-log-compresstype (absent for
    /// `.none`), x-log-signaturemethod hmac-sha1, x-acs-security-token (STS only), then Authorization,
    /// and x-log-date (a copy of Date added after signing, as the SDK does; not signed).
    public init(project: String, endpoint: String, logstore: String, credentials: Credentials,
                body: UnsafeRawBufferPointer, rawSize: Int, compression: BodyCompression, epochSeconds: Int) {
        method = "POST"
        path = "/logstores/\(logstore)/shards/lb"
        // Like the SDK: an empty body has no Content-MD5 and signs an empty line in its place.
        let md5 = body.isEmpty ? "" : SLSSigner.contentMD5(body)
        let date = SLSSigner.httpDate(epochSeconds: epochSeconds)
        let contentType = "application/x-protobuf"
        var list: [(name: String, value: String)] = [
            ("Host", "\(project).\(endpoint)"),
            ("Content-Type", contentType),
            ("Content-Length", String(body.count)),
            ("Date", date),
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", String(rawSize)),
        ]
        if !md5.isEmpty { list.append(("Content-MD5", md5)) }
        if let compressType = compression.headerValue { list.append(("x-log-compresstype", compressType)) }
        list.append(("x-log-signaturemethod", "hmac-sha1"))
        if let token = credentials.securityToken { list.append(("x-acs-security-token", token)) }
        let text = SLSSigner.stringToSign(method: method, contentMD5: md5, contentType: contentType, date: date,
                                          headers: list, path: path, query: [])
        list.append(("Authorization", SLSSigner.authorization(credentials: credentials, stringToSign: text)))
        list.append(("x-log-date", date))
        headers = list
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
