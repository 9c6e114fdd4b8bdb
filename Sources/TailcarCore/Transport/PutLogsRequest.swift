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

    /// Builds the headers the Python SDK sends for `put_logs` (SLSSigner.signedHeaders): Host
    /// `{project}.{endpoint}`, Content-Type application/x-protobuf, x-log-bodyrawsize the raw size,
    /// x-log-compresstype (absent for `.none`), signed with v1.
    public init(project: String, endpoint: String, logstore: String, credentials: Credentials,
                body: UnsafeRawBufferPointer, rawSize: Int, compression: BodyCompression, epochSeconds: Int) {
        method = "POST"
        path = "/logstores/\(logstore)/shards/lb"
        headers = SLSSigner.signedHeaders(method: method, path: path, host: "\(project).\(endpoint)",
                                          contentType: "application/x-protobuf", body: body, rawSize: rawSize,
                                          compressType: compression.headerValue, credentials: credentials,
                                          epochSeconds: epochSeconds)
    }

    /// The same request for a body hashed already: `contentMD5` is its upper-case hex MD5.
    public init(project: String, endpoint: String, logstore: String, credentials: Credentials, bodyCount: Int,
                contentMD5: String, rawSize: Int, compression: BodyCompression, epochSeconds: Int) {
        method = "POST"
        path = "/logstores/\(logstore)/shards/lb"
        headers = SLSSigner.signedHeaders(method: method, path: path, host: "\(project).\(endpoint)",
                                          contentType: "application/x-protobuf", bodyCount: bodyCount,
                                          contentMD5: contentMD5, rawSize: rawSize,
                                          compressType: compression.headerValue, credentials: credentials,
                                          epochSeconds: epochSeconds)
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
