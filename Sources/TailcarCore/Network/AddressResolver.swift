// AddressResolver.swift
//
// Host names to socket addresses for the outbound HTTP client: IP literals parse on the spot, names go
// through uv_getaddrinfo on libuv's thread pool and answer on the loop thread. Owns SocketAddress and
// the getaddrinfo request's lifetime; does not own connecting or caching.
//
// Request lifetime: the uv_getaddrinfo_t is heap-allocated and its `data` holds a retained box with the
// completion; the callback takes the box back, frees the addrinfo list and the request, then calls it.

import CLibUV
import Glibc

/// An IPv4 or IPv6 address with a port, stored by value.
public struct SocketAddress: Sendable, CustomStringConvertible {
    private var storage = sockaddr_storage()

    /// Parses an IP literal (`10.0.0.1`, `::1`, `[::1]`); nil for a host name.
    public init?(ipLiteral text: String, port: Int) {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = sockaddr_in()
        if uv_ip4_addr(host, Int32(port), &v4) == 0, Self.isDottedQuad(host) {
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: &v4, count: MemoryLayout<sockaddr_in>.size)) }
            return
        }
        var v6 = sockaddr_in6()
        if host.contains(":"), uv_ip6_addr(host, Int32(port), &v6) == 0 {
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: &v6, count: MemoryLayout<sockaddr_in6>.size)) }
            return
        }
        return nil
    }

    init(copying address: UnsafePointer<sockaddr>, length: Int) {
        withUnsafeMutableBytes(of: &storage) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: min(length, MemoryLayout<sockaddr_storage>.size)))
        }
    }

    var family: Int32 { Int32(storage.ss_family) }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
        withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        return withUnsafePointer(to: storage) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    uv_ip6_name(address, &text, text.count)
                    return "[\(String(cString: text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                uv_ip4_name(address, &text, text.count)
                return "\(String(cString: text)):\(UInt16(bigEndian: address.pointee.sin_port))"
            }
        }
    }

    /// uv_ip4_addr accepts forms like `1` or `1.2`; only four dotted numbers count as a literal here.
    private static func isDottedQuad(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// Resolves host names on the loop's thread pool.
enum AddressResolver {
    private final class Pending {
        let host: String
        let completion: (Result<[SocketAddress], LoopError>) -> Void
        init(host: String, completion: @escaping (Result<[SocketAddress], LoopError>) -> Void) {
            self.host = host
            self.completion = completion
        }
    }

    /// Calls `completion` on the loop thread with the addresses of `host` (IPv4 first), or the failure.
    /// An IP literal answers before this returns.
    static func resolve(_ host: String, port: Int, on loop: EventLoop,
                        completion: @escaping (Result<[SocketAddress], LoopError>) -> Void) {
        if let literal = SocketAddress(ipLiteral: host, port: port) {
            completion(.success([literal]))
            return
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<uv_getaddrinfo_t>.size,
                                                   alignment: MemoryLayout<uv_getaddrinfo_t>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<uv_getaddrinfo_t>.size)
        let request = raw.bindMemory(to: uv_getaddrinfo_t.self, capacity: 1)
        request.pointee.data = Unmanaged.passRetained(Pending(host: host, completion: completion)).toOpaque()
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        let status = uv_getaddrinfo(loop.raw, request, { request, status, list in
            let pending = Unmanaged<Pending>.fromOpaque(request!.pointee.data).takeRetainedValue()
            UnsafeMutableRawPointer(request!).deallocate()
            defer { if let list { uv_freeaddrinfo(list) } }
            guard status == 0 else {
                pending.completion(.failure(LoopError(operation: "resolve \(pending.host)", code: status)))
                return
            }
            var v4: [SocketAddress] = []
            var v6: [SocketAddress] = []
            var entry = list
            while let current = entry {
                if let address = current.pointee.ai_addr {
                    let socketAddress = SocketAddress(copying: address, length: Int(current.pointee.ai_addrlen))
                    if socketAddress.family == AF_INET { v4.append(socketAddress) }
                    else if socketAddress.family == AF_INET6 { v6.append(socketAddress) }
                }
                entry = current.pointee.ai_next
            }
            let addresses = v4 + v6
            if addresses.isEmpty {
                pending.completion(.failure(LoopError(operation: "resolve \(pending.host)",
                                                      code: Int32(UV_EAI_NODATA.rawValue))))
            } else {
                pending.completion(.success(addresses))
            }
        }, host, String(port), &hints)
        if status < 0 {
            Unmanaged<Pending>.fromOpaque(request.pointee.data).release()
            raw.deallocate()
            completion(.failure(LoopError(operation: "uv_getaddrinfo \(host)", code: status)))
        }
    }
}
