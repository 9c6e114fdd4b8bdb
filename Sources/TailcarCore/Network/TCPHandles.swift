// TCPHandles.swift
//
// libuv TCP in the LoopHandle lifetime (LoopHandles.swift): a listener bound to 127.0.0.1 only (the local
// health and metrics endpoint), and a connection, accepted or dialled out (the SLS client), that reads
// into one reused per-connection buffer and writes from heap copies freed in the write callback. Owns
// sockets and requests; does not own HTTP.
//
// Request memory, for a write of n bytes:
//
//   [ uv_write_t | n bytes ]   one allocation; libuv keeps the pointer until the write callback, which
//                              always runs (0, an error, or UV_ECANCELED when the handle closes first)
//                              and frees the block.

import CLibUV

/// uv_tcp_t listening on 127.0.0.1. `onConnection` runs on the loop thread for each pending connection;
/// it must call `accept(into:)` (libuv stops polling the socket until the pending one is accepted).
final class TCPListener: LoopHandle<uv_tcp_t> {
    var onConnection: (LoopError?) -> Void = { _ in }

    init(loop: EventLoop) throws(LoopError) {
        super.init()
        let status = uv_tcp_init(loop.raw, pointer)
        if status < 0 { discardUninitialised(); throw LoopError(operation: "uv_tcp_init", code: status) }
        attach()
    }

    private var stream: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Binds 127.0.0.1:`port` (0 picks a free port) and listens.
    func listen(port: Int, backlog: Int32 = 64) throws(LoopError) {
        var address = sockaddr_in()
        try uvCheck("uv_ip4_addr", uv_ip4_addr("127.0.0.1", Int32(port), &address))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_bind(pointer, $0, 0) }
        }
        try uvCheck("uv_tcp_bind 127.0.0.1:\(port)", bound)
        try uvCheck("uv_listen 127.0.0.1:\(port)", uv_listen(stream, backlog) { server, status in
            TCPListener.owner(of: UnsafeMutableRawPointer(server))?
                .onConnection(status < 0 ? LoopError(operation: "accept", code: status) : nil)
        })
    }

    /// The port the socket is bound to (the chosen one when listening on port 0).
    func boundPort() throws(LoopError) -> Int {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getsockname(pointer, $0, &length) }
        }
        try uvCheck("uv_tcp_getsockname", status)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// Accepts the pending connection into a freshly initialised `connection`.
    func accept(into connection: TCPConnection) throws(LoopError) {
        try uvCheck("uv_accept", uv_accept(stream, connection.stream))
    }
}

/// One accepted uv_tcp_t. Reads land in a buffer owned by the connection and reused for every read; the
/// bytes handed to `onRead` are valid only during the call.
final class TCPConnection: LoopHandle<uv_tcp_t> {
    enum ReadResult {
        case data(UnsafeRawBufferPointer)
        case end
        case failed(LoopError)
    }

    var onRead: (ReadResult) -> Void = { _ in }
    private var onConnect: (LoopError?) -> Void = { _ in }
    private(set) var isReading = false
    /// Freed in deinit: after uv_close libuv calls neither the alloc nor the read callback again.
    private let readBuffer: UnsafeMutableRawBufferPointer

    init(loop: EventLoop, readBufferBytes: Int) throws(LoopError) {
        readBuffer = .allocate(byteCount: readBufferBytes, alignment: 16)
        super.init()
        let status = uv_tcp_init(loop.raw, pointer)
        if status < 0 {
            discardUninitialised()
            readBuffer.deallocate()
            throw LoopError(operation: "uv_tcp_init", code: status)
        }
        attach()
    }

    deinit { readBuffer.deallocate() }

    var stream: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Starts reading unless already reading.
    func startReading() throws(LoopError) {
        guard !isReading else { return }
        try uvCheck("uv_read_start", uv_read_start(stream, { handle, _, buffer in
            guard let buffer else { return }
            guard let connection = TCPConnection.owner(of: UnsafeMutableRawPointer(handle)) else {
                buffer.pointee = uv_buf_init(nil, 0)  // libuv reports UV_ENOBUFS
                return
            }
            let space = connection.readBuffer
            buffer.pointee = uv_buf_init(space.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(space.count))
        }, { handle, count, buffer in
            guard let connection = TCPConnection.owner(of: UnsafeMutableRawPointer(handle)) else { return }
            if count > 0, let base = buffer?.pointee.base {
                connection.onRead(.data(UnsafeRawBufferPointer(start: base, count: count)))
            } else if count == Int(UV_EOF.rawValue) {
                connection.onRead(.end)
            } else if count < 0 {
                connection.onRead(.failed(LoopError(operation: "read", code: Int32(count))))
            }
        }))
        isReading = true
    }

    func stopReading() {
        guard isReading, !isClosed else { return }
        isReading = false
        uv_read_stop(stream)
    }

    /// Dials `address`; `completion` runs on the loop thread with nil once connected. It does not run
    /// when the connection is closed first (libuv then reports UV_ECANCELED to a handle that is gone).
    func connect(to address: SocketAddress, completion: @escaping (LoopError?) -> Void) throws(LoopError) {
        onConnect = completion
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<uv_connect_t>.size,
                                                   alignment: MemoryLayout<uv_connect_t>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<uv_connect_t>.size)
        let request = raw.bindMemory(to: uv_connect_t.self, capacity: 1)
        let status = address.withSockaddr { uv_tcp_connect(request, pointer, $0) { request, status in
            let handle = request!.pointee.handle
            UnsafeMutableRawPointer(request!).deallocate()
            guard let connection = TCPConnection.owner(of: UnsafeMutableRawPointer(handle)) else { return }
            let completion = connection.onConnect
            connection.onConnect = { _ in }
            completion(status < 0 ? LoopError(operation: "connect", code: status) : nil)
        } }
        if status < 0 {
            raw.deallocate()
            throw LoopError(operation: "uv_tcp_connect \(address)", code: status)
        }
    }

    /// Queues `bytes.request` as it stands, without a copy: the block is retained until libuv's write
    /// callback (which also runs, cancelled, when the stream closes first).
    func write(retaining bytes: OutgoingBytes) throws(LoopError) {
        guard !isClosed else { throw LoopError(operation: "uv_write", code: Int32(UV_EBADF.rawValue)) }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<uv_write_t>.size,
                                                   alignment: MemoryLayout<uv_write_t>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<uv_write_t>.size)
        let request = raw.bindMemory(to: uv_write_t.self, capacity: 1)
        request.pointee.data = Unmanaged.passRetained(bytes).toOpaque()
        let body = bytes.request
        var buffer = uv_buf_init(UnsafeMutablePointer(mutating: body.baseAddress?.assumingMemoryBound(to: CChar.self)),
                                 UInt32(body.count))
        let status = uv_write(request, stream, &buffer, 1) { request, _ in
            Unmanaged<OutgoingBytes>.fromOpaque(request!.pointee.data).release()
            UnsafeMutableRawPointer(request!).deallocate()
        }
        if status < 0 {
            Unmanaged<OutgoingBytes>.fromOpaque(request.pointee.data).release()
            raw.deallocate()
            throw LoopError(operation: "uv_write", code: status)
        }
    }

    /// Queues a copy of `bytes`; the copy lives until libuv's write callback frees it.
    func write(_ bytes: [UInt8]) throws(LoopError) {
        let failure: LoopError? = bytes.withUnsafeBytes { raw in
            do throws(LoopError) { try write(raw) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Queues a copy of `bytes`; the copy lives until libuv's write callback frees it.
    func write(_ bytes: UnsafeRawBufferPointer) throws(LoopError) {
        guard !isClosed else { throw LoopError(operation: "uv_write", code: Int32(UV_EBADF.rawValue)) }
        let header = MemoryLayout<uv_write_t>.stride
        let block = UnsafeMutableRawPointer.allocate(byteCount: header + max(bytes.count, 1),
                                                     alignment: MemoryLayout<uv_write_t>.alignment)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: header)
        if let base = bytes.baseAddress { block.advanced(by: header).copyMemory(from: base, byteCount: bytes.count) }
        let request = block.bindMemory(to: uv_write_t.self, capacity: 1)
        var buffer = uv_buf_init(block.advanced(by: header).assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
        let status = uv_write(request, stream, &buffer, 1) { request, _ in
            UnsafeMutableRawPointer(request!).deallocate()
        }
        if status < 0 {
            block.deallocate()
            throw LoopError(operation: "uv_write", code: status)
        }
    }

    /// Half-closes after every queued write went out (the peer then sees end of stream).
    func shutdown() throws(LoopError) {
        guard !isClosed else { throw LoopError(operation: "uv_shutdown", code: Int32(UV_EBADF.rawValue)) }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<uv_shutdown_t>.size,
                                                   alignment: MemoryLayout<uv_shutdown_t>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<uv_shutdown_t>.size)
        let request = raw.bindMemory(to: uv_shutdown_t.self, capacity: 1)
        let status = uv_shutdown(request, stream) { request, _ in
            UnsafeMutableRawPointer(request!).deallocate()
        }
        if status < 0 {
            raw.deallocate()
            throw LoopError(operation: "uv_shutdown", code: status)
        }
    }
}
