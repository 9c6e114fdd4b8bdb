// KubeAPI.swift
//
// The few Kubernetes API calls the controller makes, one at a time on a private loop that runs until each
// answer (as Bootstrapper does with SLS): list a collection, get, create and replace an object, merge-patch
// a status subresource; and the bytes of a watch request for WatchStream. Answers are JSON read through the
// YAML reader into ConfigValue; error answers become KubeAPIError with the Status object's code, reason and
// message. Owns the request bytes (Host, bearer token, Accept, Content-Type) and the meaning of a status;
// does not own what the controller does with the objects.
//
//   GET /apis/log.alibabacloud.com/v1alpha1/aliyunlogconfigs -> items + metadata.resourceVersion
//   PATCH .../namespaces/default/aliyunlogconfigs/web/status  application/merge-patch+json {"status":{...}}

public enum KubeAPIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No usable answer: connect, TLS, timeout, a malformed response or body.
    case transport(String)
    /// The API answered with an error status (`reason` and `message` from its Status object).
    case status(code: Int, reason: String, message: String)
    case access(KubeAccessError)

    public var code: Int? { if case .status(let code, _, _) = self { code } else { nil } }

    public var description: String {
        switch self {
        case .transport(let reason): return "no answer from the Kubernetes API: \(reason)"
        case let .status(code, reason, message): return "Kubernetes API \(code) \(reason): \(message)"
        case .access(let error): return error.description
        }
    }
}

/// A Kubernetes API collection (`group/version/plural`, namespaced).
public struct KubeResourceType: Sendable, Equatable {
    public var group: String
    public var version: String
    public var plural: String

    public static let aliyunLogConfigs = KubeResourceType(group: "log.alibabacloud.com", version: "v1alpha1",
                                                          plural: "aliyunlogconfigs")
    public static let leases = KubeResourceType(group: "coordination.k8s.io", version: "v1", plural: "leases")

    /// The collection in `namespace`, or across all namespaces when nil.
    func path(namespace: String?) -> String {
        let base = "/apis/\(group)/\(version)"
        guard let namespace else { return "\(base)/\(plural)" }
        return "\(base)/namespaces/\(namespace)/\(plural)"
    }

    func path(namespace: String, name: String) -> String { path(namespace: namespace) + "/" + name }
}

final class KubeAPI {
    let access: KubeAPIAccess
    private let loop: EventLoop
    private let client: HTTPClient
    private(set) var tlsContext: TLSContext?

    init(access: KubeAPIAccess, timeouts: HTTPClientTimeouts) throws(KubeAPIError) {
        self.access = access
        do { loop = try EventLoop() } catch { throw .transport(error.description) }
        client = HTTPClient(loop: loop, maxConnections: 1, timeouts: timeouts,
                            limits: HTTPParserLimits(maxBodyBytes: 64 << 20), caFile: access.caFile)
        if access.endpoint.scheme == .https {
            do { tlsContext = try TLSContext(caFile: access.caFile) } catch { throw .transport(error.description) }
        }
    }

    func close() {
        client.shutDown()
        loop.close()
    }

    /// The items of a collection and the resourceVersion to watch from.
    func list(_ type: KubeResourceType, namespace: String?) -> Result<(items: [ConfigValue], version: String), KubeAPIError> {
        call("GET", type.path(namespace: namespace)).flatMap { document in
            guard let version = document.member("metadata")?.member("resourceVersion")?.text else {
                return .failure(.transport("a list answer without metadata.resourceVersion"))
            }
            guard case .sequence(let items)? = document.member("items")?.node else {
                if document.member("items")?.isNull ?? false { return .success(([], version)) }
                return .failure(.transport("a list answer without items"))
            }
            return .success((items, version))
        }
    }

    func get(_ type: KubeResourceType, namespace: String, name: String) -> Result<ConfigValue, KubeAPIError> {
        call("GET", type.path(namespace: namespace, name: name))
    }

    func create(_ type: KubeResourceType, namespace: String, _ object: JSONValue) -> Result<ConfigValue, KubeAPIError> {
        call("POST", type.path(namespace: namespace), body: object, contentType: "application/json")
    }

    func replace(_ type: KubeResourceType, namespace: String, name: String, _ object: JSONValue) -> Result<ConfigValue, KubeAPIError> {
        call("PUT", type.path(namespace: namespace, name: name), body: object, contentType: "application/json")
    }

    func patchStatus(_ type: KubeResourceType, namespace: String, name: String, _ patch: JSONValue) -> Result<ConfigValue, KubeAPIError> {
        call("PATCH", type.path(namespace: namespace, name: name) + "/status", body: patch,
             contentType: "application/merge-patch+json")
    }

    /// The bytes of `GET path?watch=1&...` for WatchStream.
    func watchRequest(_ type: KubeResourceType, namespace: String?, from version: String,
                      timeoutSeconds: Int) -> Result<[UInt8], KubeAPIError> {
        let target = type.path(namespace: namespace) + "?watch=1&allowWatchBookmarks=true&resourceVersion="
            + version + "&timeoutSeconds=\(timeoutSeconds)"
        return requestBytes("GET", target, body: nil, contentType: nil)
    }

    private func requestBytes(_ method: String, _ target: String, body: JSONValue?,
                              contentType: String?) -> Result<[UInt8], KubeAPIError> {
        var headers: [(name: String, value: String)] = [("Host", access.endpoint.authority),
                                                        ("User-Agent", "tailcar-controller"),
                                                        ("Accept", "application/json")]
        do {
            if let token = try access.bearer() { headers.append(("Authorization", "Bearer " + token)) }
        } catch {
            return .failure(.access(error))
        }
        let bytes = body?.bytes ?? []
        if let contentType { headers.append(("Content-Type", contentType)) }
        if method != "GET" { headers.append(("Content-Length", String(bytes.count))) }
        var writer = HTTPRequestWriter(initialCapacity: bytes.count + 512)
        bytes.withUnsafeBytes { writer.write(method: method, target: target, headers: headers, body: $0) }
        return .success(writer.bytes)
    }

    private func exchange(_ bytes: [UInt8]) -> Result<HTTPResponse, HTTPClientError> {
        var answer: Result<HTTPResponse, HTTPClientError>?
        client.send(bytes, to: access.endpoint, serverName: access.serverName) { [loop] result in
            answer = result
            loop.stop()
        }
        loop.run()
        return answer ?? .failure(.cancelled)
    }

    private func call(_ method: String, _ target: String, body: JSONValue? = nil,
                      contentType: String? = nil) -> Result<ConfigValue, KubeAPIError> {
        let bytes: [UInt8]
        switch requestBytes(method, target, body: body, contentType: contentType) {
        case .failure(let error): return .failure(error)
        case .success(let built): bytes = built
        }
        // The loop sleeps between calls: let it see a keep-alive connection the server closed meanwhile
        // (and drop it) before a request goes out on it; a request that still meets such a close is sent
        // once more on a new connection.
        loop.runOnce()
        var outcome = exchange(bytes)
        if case .failure(.closedByPeer) = outcome { outcome = exchange(bytes) }
        switch outcome {
        case .failure(let error): return .failure(.transport(error.description))
        case .success(let response):
            let document = try? YAMLReader.documents(response.body, file: "\(method) \(target)").first
            guard (200..<300).contains(response.status) else {
                return .failure(.status(code: response.status,
                                        reason: document?.member("reason")?.text ?? response.reason,
                                        message: document?.member("message")?.text ?? printable(response.body.prefix(200))))
            }
            guard let document else { return .failure(.transport("\(method) \(target): the answer is not JSON")) }
            return .success(document)
        }
    }
}
