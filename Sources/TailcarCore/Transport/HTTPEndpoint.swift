// HTTPEndpoint.swift
//
// Where an outbound HTTP client connects: scheme, host and port, parsed from the endpoint text users write
// (`cn-hangzhou.log.aliyuncs.com`, `http://127.0.0.1:8080`, `https://[::1]:8443`). Owns that parsing and the
// errors naming what is wrong; does not own name resolution (AddressResolver) or the Host header an SLS
// request sends (`{project}.{endpoint}`, PutLogsRequest).

public struct HTTPEndpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public var scheme: Scheme
    /// A name or an IP literal (IPv6 without brackets).
    public var host: String
    public var port: Int

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses `[scheme://]host[:port][/]`. Without a scheme, `https` (SLS's public endpoints take both;
    /// the SDKs default to http, Tailcar to the safe choice). The default port follows the scheme.
    public init(parsing text: String) throws(EndpointError) {
        var rest = Substring(text.trimmingWhitespace)
        guard !rest.isEmpty else { throw EndpointError(text: text, problem: "is empty") }
        var scheme = Scheme.https
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let name = rest[..<colon].lowercased()
            guard let parsed = Scheme(rawValue: name) else {
                throw EndpointError(text: text, problem: "has scheme \"\(name)\"; expected http or https")
            }
            scheme = parsed
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("@") else {
            throw EndpointError(text: text, problem: "has a path, query or user part; expected host[:port]")
        }
        var host = rest
        var port = scheme == .https ? 443 : 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw EndpointError(text: text, problem: "has an unclosed [ in its IPv6 address")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw EndpointError(text: text, problem: "has text after ]") }
                port = try Self.port(after.dropFirst(), in: text)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            port = try Self.port(rest[rest.index(after: colon)...], in: text)
        }
        guard !host.isEmpty else { throw EndpointError(text: text, problem: "has no host") }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// `host` or `host:port` when the port is not the scheme's default (the Host header form).
    public var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == .https ? 443 : 80
        return port == defaultPort ? name : "\(name):\(port)"
    }

    /// True for `127.0.0.1`-style and IPv6 literals: SLS then connects to the address and still sends
    /// `Host: {project}.{endpoint}`.
    public var hostIsIPLiteral: Bool { SocketAddress(ipLiteral: host, port: port) != nil }

    public var description: String { "\(scheme.rawValue)://\(authority)" }

    private static func port(_ text: Substring, in whole: String) throws(EndpointError) -> Int {
        guard let value = Int(text), (1...65535).contains(value) else {
            throw EndpointError(text: whole, problem: "has port \"\(text)\"; expected 1 to 65535")
        }
        return value
    }
}

/// An endpoint text that cannot be used, and why.
public struct EndpointError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public var problem: String

    public var description: String { "endpoint \"\(text)\" \(problem)" }
}

extension String {
    var trimmingWhitespace: Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return slice
    }
}
