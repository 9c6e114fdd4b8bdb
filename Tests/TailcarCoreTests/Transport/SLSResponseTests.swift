// Tests of SLSResponse (error extraction, classification) and HTTPRequestWriter.
import Testing
@testable import TailcarCore

@Suite("SLSResponse")
struct SLSResponseTests {
    func response(_ status: Int, _ body: String, requestID: String? = "REQ1") -> HTTPResponse {
        HTTPResponse(status: status, reason: "", headers: requestID.map { [("x-log-requestid", $0)] } ?? [],
                     body: Array(body.utf8), closesConnection: false)
    }

    @Test("error code, message and request id come from an SLS error body, escapes decoded")
    func extract() {
        let error = SLSResponse.error(from: response(403,
            "{ \"errorMessage\" : \"quota \\\"exceeded\\\"\\n\\u0041\", \"errorCode\":\"WriteQuotaExceed\" }"))
        #expect(error == SLSError(status: 403, code: "WriteQuotaExceed", message: "quota \"exceeded\"\nA",
                                  requestID: "REQ1"))
        #expect(SLSResponse.error(from: response(200, "")) == nil)
        #expect(SLSResponse.jsonStringField("errorCode", in: Array("{\"errorCode\": 5}".utf8)) == nil)
        #expect(SLSResponse.jsonStringField("errorCode", in: Array("{\"errorCode\": \"unterminated".utf8)) == nil)
    }

    @Test("answers are classified per SLS.md")
    func classify() {
        let table: [(Int, String, SLSDisposition)] = [
            (200, "", .delivered),
            (403, "{\"errorCode\":\"WriteQuotaExceed\"}", .retry),
            (403, "{\"errorCode\":\"ShardWriteQuotaExceed\"}", .retry),
            (503, "{\"errorCode\":\"ServerBusy\"}", .retry),
            (500, "<html>", .retry), (429, "", .retry), (502, "", .retry),
            (401, "{\"errorCode\":\"Unauthorized\"}", .needsOperator),
            (401, "{\"errorCode\":\"SignatureNotMatch\"}", .needsOperator),
            (404, "{\"errorCode\":\"LogStoreNotExist\"}", .needsOperator),
            (404, "{\"errorCode\":\"ProjectNotExist\"}", .needsOperator),
            (400, "{\"errorCode\":\"PostBodyTooLarge\"}", .dataRejected),
            (400, "{\"errorCode\":\"InvalidTimestamp\"}", .dataRejected),
            (400, "{\"errorCode\":\"PostBodyInvalid\"}", .dataRejected),
            (400, "not json", .dataRejected),
        ]
        for (status, body, expected) in table {
            #expect(SLSResponse.disposition(of: response(status, body)) == expected, "\(status) \(body)")
        }
    }

    @Test("the request writer lays out request line, headers, blank line and body")
    func writer() {
        var writer = HTTPRequestWriter()
        [UInt8]([1, 2]).withUnsafeBytes {
            writer.write(method: "POST", target: "/x", headers: [("Host", "h"), ("Content-Length", "2")], body: $0)
        }
        #expect(writer.bytes == Array("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n".utf8) + [1, 2])
    }
}
