// CredentialSource.swift
//
// Where the SLS flusher's AccessKey comes from, read fresh when it can change: fixed values from the
// environment, or a credentials file that is re-read whenever it changes on disk (a mounted Secret or a
// rotated STS token). Owns the file formats and the change check; does not own signing (SLSSigner).
// Neither the secret nor the token ever appears in an error or a description.
//
// File formats, told apart by their first non-blank byte:
//
//   {"AccessKeyId": "...", "AccessKeySecret": "...", "SecurityToken": "..."}   STS AssumeRole's
//   (also nested as {"Credentials": {...}}, the whole AssumeRole answer)
//
//   [default]                                                                  the Alibaba Cloud CLI's INI
//   access_key_id = ...                                                        (the first profile with a
//   access_key_secret = ...                                                    key id is used)
//   security_token = ...

import Glibc

/// Credentials that cannot be had; names the place, never the secret.
public struct CredentialError: Error, Equatable, Sendable, CustomStringConvertible {
    public var source: String
    public var problem: String

    public var description: String { "credentials from \(source): \(problem)" }
}

public final class CredentialSource: CustomStringConvertible {
    public enum Origin: Sendable {
        case fixed(Credentials)
        case file(path: String)
    }

    public let origin: Origin
    private var cached: Credentials?
    private var cachedStamp: (device: UInt64, inode: UInt64, size: Int, seconds: Int, nanoseconds: Int)?

    public init(_ origin: Origin) { self.origin = origin }

    /// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN),
    /// else the file named by ALIBABA_CLOUD_CREDENTIALS_FILE; nil when neither is set. Half a pair is an error.
    public static func fromEnvironment(_ get: (String) -> String?) throws(CredentialError) -> CredentialSource? {
        let id = get("ALIBABA_CLOUD_ACCESS_KEY_ID").flatMap { $0.isEmpty ? nil : $0 }
        let secret = get("ALIBABA_CLOUD_ACCESS_KEY_SECRET").flatMap { $0.isEmpty ? nil : $0 }
        if let id, let secret {
            let token = get("ALIBABA_CLOUD_SECURITY_TOKEN").flatMap { $0.isEmpty ? nil : $0 }
            return CredentialSource(.fixed(Credentials(accessKeyID: id, accessKeySecret: secret, securityToken: token)))
        }
        if id != nil || secret != nil {
            throw CredentialError(source: "the environment", problem: id == nil
                ? "ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not"
                : "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not")
        }
        if let path = get("ALIBABA_CLOUD_CREDENTIALS_FILE"), !path.isEmpty {
            return CredentialSource(.file(path: path))
        }
        return nil
    }

    public var description: String {
        switch origin {
        case .fixed: return "the environment (ALIBABA_CLOUD_ACCESS_KEY_ID)"
        case .file(let path): return "file \(path)"
        }
    }

    /// The credentials to sign with now. A file is re-read when its identity, size or mtime changed; when
    /// a changed file cannot be parsed the error says so and the previous credentials are not used.
    public func current() throws(CredentialError) -> Credentials {
        switch origin {
        case .fixed(let credentials): return credentials
        case .file(let path): return try fromFile(path)
        }
    }

    private func fromFile(_ path: String) throws(CredentialError) -> Credentials {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw CredentialError(source: "file \(path)", problem: String(cString: strerror(errno)))
        }
        let stamp = (UInt64(status.st_dev), UInt64(status.st_ino), Int(status.st_size),
                     Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec))
        if let cached, let old = cachedStamp, old == stamp { return cached }
        cached = nil
        let bytes: [UInt8]?
        do { bytes = try readWholeFile(path) } catch {
            throw CredentialError(source: "file \(path)", problem: error.description)
        }
        guard let bytes else { throw CredentialError(source: "file \(path)", problem: "does not exist") }
        let parsed = try Self.parse(bytes, source: "file \(path)")
        cached = parsed
        cachedStamp = stamp
        return parsed
    }

    static func parse(_ bytes: [UInt8], source: String) throws(CredentialError) -> Credentials {
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        let id, secret, token: String?
        if first == UInt8(ascii: "{") {
            id = SLSResponse.jsonStringField("AccessKeyId", in: bytes)
            secret = SLSResponse.jsonStringField("AccessKeySecret", in: bytes)
            token = SLSResponse.jsonStringField("SecurityToken", in: bytes)
        } else {
            let profile = iniProfile(bytes)
            id = profile["access_key_id"]
            secret = profile["access_key_secret"]
            token = profile["security_token"] ?? profile["sts_token"]
        }
        guard let id, !id.isEmpty else {
            throw CredentialError(source: source, problem: "no AccessKeyId (JSON) or access_key_id (INI) found")
        }
        guard let secret, !secret.isEmpty else {
            throw CredentialError(source: source, problem: "no AccessKeySecret (JSON) or access_key_secret (INI) found")
        }
        return Credentials(accessKeyID: id, accessKeySecret: secret,
                           securityToken: token.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The first INI section (or the section-less top) that has an access_key_id.
    private static func iniProfile(_ bytes: [UInt8]) -> [String: String] {
        var current: [String: String] = [:]
        for rawLine in bytes.split(separator: 0x0A) {
            let line = String(decoding: rawLine, as: UTF8.self).trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                if current["access_key_id"] != nil { return current }
                current = [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals]).trimmingWhitespace.lowercased()
            var value = String(line[line.index(after: equals)...]).trimmingWhitespace
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            current[key] = String(value)
        }
        return current
    }
}
