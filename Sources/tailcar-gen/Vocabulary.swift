// Vocabulary.swift
//
// The words records are made of (paths, user agents, status codes, Java frames, ...), copied once at
// start-up into one arena of bytes so formatters append them with memcpy, plus a block of seeded
// alphanumeric filler used to reach `--line-bytes`. Owns the tables and their weights; does not own
// record layout (see the *Format.swift files).

/// Phrases in a buffer owned by the `Vocabulary` (not an Array, so picking one costs no ARC traffic).
struct PhraseTable {
    let phrases: UnsafeBufferPointer<Phrase>

    init(phrases list: [Phrase]) {
        let storage = UnsafeMutableBufferPointer<Phrase>.allocate(capacity: list.count)
        _ = storage.initialize(from: list)
        phrases = UnsafeBufferPointer(storage)
    }

    @inline(__always)
    func pick(_ random: inout SeededRandom) -> Phrase { phrases[random.below(phrases.count)] }
}

final class Vocabulary {
    private let arena: UnsafeMutablePointer<UInt8>
    let methods, paths, protocols, userAgents, referers, statuses: PhraseTable
    let levels, threads, loggers, sourceFiles, messages, exceptions, frames: PhraseTable
    let hexDigits, alphanumerics: Phrase
    /// Seeded filler letters; `filler.count` is `fillerSize`.
    let filler: Phrase
    static let fillerSize = 1 << 16

    init(seed: UInt64) {
        let words: [[String]] = [
            Self.methodWords, Self.pathWords, Self.protocolWords, Self.userAgentWords, Self.refererWords,
            Self.statusWords, Self.levelWords, Self.threadWords, Self.loggerWords, Self.sourceFileWords,
            Self.messageWords, Self.exceptionWords, Self.frameWords,
            ["0123456789abcdef", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"],
        ]
        let textSize = words.joined().reduce(0) { $0 + $1.utf8.count }
        arena = .allocate(capacity: textSize + Self.fillerSize)
        var cursor = 0
        var tables: [[Phrase]] = []
        for list in words {
            var table: [Phrase] = []
            for word in list {
                let start = arena + cursor
                for byte in word.utf8 { arena[cursor] = byte; cursor += 1 }
                table.append(Phrase(start: start, count: cursor - (start - arena)))
            }
            tables.append(table)
        }
        (methods, paths, protocols, userAgents, referers) =
            (.init(phrases: tables[0]), .init(phrases: tables[1]), .init(phrases: tables[2]),
             .init(phrases: tables[3]), .init(phrases: tables[4]))
        (statuses, levels, threads, loggers, sourceFiles) =
            (.init(phrases: tables[5]), .init(phrases: tables[6]), .init(phrases: tables[7]),
             .init(phrases: tables[8]), .init(phrases: tables[9]))
        (messages, exceptions, frames) =
            (.init(phrases: tables[10]), .init(phrases: tables[11]), .init(phrases: tables[12]))
        hexDigits = tables[13][0]
        alphanumerics = tables[13][1]
        var random = SeededRandom(seed: seed ^ 0xF11E_F11E)
        for index in 0..<Self.fillerSize {
            arena[cursor + index] = alphanumerics.start[random.below(alphanumerics.count)]
        }
        filler = Phrase(start: arena + cursor, count: Self.fillerSize)
    }

    deinit {
        arena.deallocate()
        for table in [methods, paths, protocols, userAgents, referers, statuses, levels, threads, loggers,
                      sourceFiles, messages, exceptions, frames] { table.phrases.deallocate() }
    }

    // Weights are expressed by repetition: GET appears 8 times in 12 methods.
    static let methodWords = ["GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"]
    static let protocolWords = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/2.0", "HTTP/1.0"]
    static let statusWords = [
        "200", "200", "200", "200", "200", "200", "200", "200", "200", "200", "200", "200",
        "201", "204", "301", "302", "304", "304", "400", "401", "403", "404", "404", "499", "500", "502", "503",
    ]
    static let pathWords = [
        "/", "/index.html", "/favicon.ico", "/static/js/app.4f2a9c.js", "/static/css/main.91be.css",
        "/images/logo.png", "/api/v1/orders", "/api/v1/orders/detail", "/api/v1/users/profile",
        "/api/v1/cart/items", "/api/v1/search", "/api/v2/products", "/api/v2/products/reviews",
        "/api/v2/inventory/stock", "/login", "/logout", "/account/settings", "/checkout/payment",
        "/checkout/confirm", "/healthz", "/metrics", "/ngx_pagespeed_beacon", "/blog/2026/01/sidecar-logging",
        "/docs/getting-started", "/download/client-3.2.1.tar.gz", "/ws/notifications",
    ]
    static let userAgentWords = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
        "curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "Go-http-client/1.1", "okhttp/4.12.0",
        "kube-probe/1.30", "Prometheus/2.53.0", "Googlebot/2.1 (+http://www.google.com/bot.html)",
    ]
    static let refererWords = [
        "\"-\"", "\"-\"", "\"-\"", "\"https://www.example.com/\"", "\"https://www.example.com/shop/cart\"",
        "\"https://m.example.com/search?q=sidecar\"", "\"https://www.google.com/\"", "\"https://www.bing.com/\"",
    ]
    static let levelWords = ["INFO", "INFO", "INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"]
    static let threadWords = [
        "main", "http-nio-8080-exec-1", "http-nio-8080-exec-7", "http-nio-8080-exec-12", "pool-2-thread-3",
        "scheduling-1", "kafka-producer-network-thread", "ForkJoinPool.commonPool-worker-5",
    ]
    static let loggerWords = [
        "c.e.shop.order.OrderController", "c.e.shop.order.OrderService", "c.e.shop.payment.PaymentGateway",
        "c.e.shop.inventory.StockClient", "o.s.web.servlet.DispatcherServlet", "c.z.hikari.pool.HikariPool",
        "c.e.shop.auth.TokenFilter", "o.a.kafka.clients.NetworkClient",
    ]
    static let sourceFileWords = [
        "/home/admin/app/src/order_service.cpp:218", "/home/admin/app/src/payment/gateway.cpp:77",
        "/home/admin/app/src/common/rpc_client.cpp:1042", "/home/admin/app/src/storage/segment_writer.cpp:391",
        "/home/admin/app/src/main.cpp:54",
    ]
    static let messageWords = [
        "request served", "order created", "payment authorized", "cache miss for product",
        "user session refreshed", "stock reserved", "slow query detected", "retrying upstream call",
        "connection pool exhausted and waiting", "configuration reloaded", "batch flushed to storage",
    ]
    static let exceptionWords = [
        "java.lang.IllegalStateException: order is not in a payable state",
        "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"sku\" is null",
        "java.net.SocketTimeoutException: Read timed out",
        "org.springframework.dao.DataIntegrityViolationException: duplicate key value violates unique constraint",
        "java.util.concurrent.TimeoutException: Waited 3000 milliseconds for inventory reply",
        "com.example.shop.payment.GatewayException: upstream answered 502",
    ]
    static let frameWords = [
        "\tat com.example.shop.order.OrderService.place(OrderService.java:142)",
        "\tat com.example.shop.order.OrderController.create(OrderController.java:57)",
        "\tat com.example.shop.payment.PaymentGateway.authorize(PaymentGateway.java:88)",
        "\tat com.example.shop.inventory.StockClient.reserve(StockClient.java:63)",
        "\tat jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
        "\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)",
        "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
        "\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
        "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)",
        "\tat org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1736)",
        "\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1144)",
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
    ]
}
