#!/usr/bin/env python3
"""A test OTLP/HTTP logs receiver on 127.0.0.1 for Tailcar's flusher_otlp.

Decodes every `POST /v1/logs` with the official OpenTelemetry protobuf classes (the opentelemetry-proto
package's ExportLogsServiceRequest), after gunzip when `Content-Encoding: gzip`, and checks what the
OTLP/HTTP specification and Tailcar's README promise of every field: Content-Type application/x-protobuf,
every ResourceLogs with one ScopeLogs of scope `tailcar`, resource attributes with string values, every
LogRecord with time_unix_nano and observed_time_unix_nano set, a body that is a string or bytes value,
attributes with string or bytes values, and nothing else set (severity, flags, trace and span ids, dropped
counts). A request that breaks a rule is answered 400 with a google.rpc.Status naming it, and counted
(GET /_violations). Accepted log records are appended to --records FILE as JSON lines, one per record:
{"resource": {...}, "scope": [name, version], "time": ns, "observed": ns, "body": str | {"bytes": hex},
"attributes": {...}, "headers": {...}, "peer": port, "gzip": bool}.

Fault modes (--fault at start, or POST /_control?fault=MODE[&retry_after=S][&reject=N]): none, 500, 503,
429 (with Retry-After: S when given), reset (RST after reading part of the request), garbage (bytes that
are not HTTP), badrequest (400 with a google.rpc.Status), partial (accepts the request but keeps only all
but the last N records of it, answering partial_success.rejected_log_records = N), and auth (401 unless
the request has the header given by --require-header NAME:VALUE). GET /_stats returns request counts.
With --tls-cert and --tls-key it speaks HTTPS. Prints "PORT <n>" on stdout when ready (--port 0 picks a free port). With --summary (benchmarks) it decodes
every request and keeps only counts, without the field checks.
"""
import argparse
import gzip
import json
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (ExportLogsServiceRequest,
                                                                    ExportLogsServiceResponse)

FAULTS = {"none", "500", "503", "429", "reset", "garbage", "badrequest", "partial", "auth"}


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def rpc_status(code, message):
    """A google.rpc.Status (code = field 1, message = field 2), encoded by hand: the OTLP error body."""
    text = message.encode()
    return b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text


class Violation(Exception):
    pass


def any_value(value, where):
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bytes_value":
        return {"bytes": value.bytes_value.hex()}
    raise Violation(f"{where}: expected a string or bytes value, found {kind}")


def attributes(pairs, where):
    out = {}
    for pair in pairs:
        if not pair.key:
            raise Violation(f"{where}: an attribute with an empty key")
        if pair.key in out:
            raise Violation(f"{where}: attribute {pair.key!r} twice")
        out[pair.key] = any_value(pair.value, f"{where}.{pair.key}")
    return out


def check_and_flatten(request):
    """Every LogRecord of a decoded request as a dict; raises Violation on anything Tailcar must not send."""
    records = []
    if not request.resource_logs:
        raise Violation("no resource_logs")
    for r_index, resource_logs in enumerate(request.resource_logs):
        where = f"resource_logs[{r_index}]"
        resource = attributes(resource_logs.resource.attributes, where + ".resource")
        if resource_logs.resource.dropped_attributes_count or resource_logs.schema_url:
            raise Violation(where + ": dropped_attributes_count or schema_url set")
        if len(resource_logs.scope_logs) != 1:
            raise Violation(f"{where}: {len(resource_logs.scope_logs)} scope_logs, expected 1")
        scope_logs = resource_logs.scope_logs[0]
        scope = [scope_logs.scope.name, scope_logs.scope.version]
        if scope[0] != "tailcar" or not scope[1]:
            raise Violation(f"{where}: scope {scope}, expected tailcar and a version")
        if not scope_logs.log_records:
            raise Violation(where + ": a scope without log records")
        for l_index, record in enumerate(scope_logs.log_records):
            at = f"{where}.log_records[{l_index}]"
            if record.time_unix_nano == 0 or record.observed_time_unix_nano == 0:
                raise Violation(at + ": time_unix_nano or observed_time_unix_nano is 0")
            if (record.severity_number or record.severity_text or record.flags or record.trace_id
                    or record.span_id or record.dropped_attributes_count):
                raise Violation(at + ": severity, flags, trace/span id or dropped count set")
            entry = {"resource": resource, "scope": scope, "time": record.time_unix_nano,
                     "observed": record.observed_time_unix_nano,
                     "attributes": attributes(record.attributes, at + ".attributes")}
            if record.HasField("body"):
                entry["body"] = any_value(record.body, at + ".body")
            records.append(entry)
    return records


class State:
    def __init__(self, fault, records_path, require_header, summary):
        self.fault = fault
        self.retry_after = None
        self.reject = 1
        self.records_path = records_path
        self.require_header = require_header
        self.summary = summary
        self.stats = {"requests": 0, "records": 0, "raw_bytes": 0, "body_bytes": 0, "faults": 0}
        self.violations = []
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b"", content_type="application/x-protobuf", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        state = self.server.state
        with state.lock:
            if self.path == "/_stats":
                return self.answer(200, json.dumps(state.stats).encode(), "application/json")
            if self.path == "/_violations":
                return self.answer(200, json.dumps(state.violations).encode(), "application/json")
        self.answer(404, rpc_status(5, "not found"))

    def do_POST(self):
        url = urlsplit(self.path)
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        if url.path == "/_control":
            self.rfile.read(length)
            query = dict(parse_qsl(url.query))
            if query.get("fault", "none") not in FAULTS:
                return self.answer(400, b"unknown fault", "text/plain")
            with state.lock:
                state.fault = query.get("fault", "none")
                state.retry_after = query.get("retry_after")
                state.reject = int(query.get("reject", "1"))
            return self.answer(200, b"", "text/plain")
        fault = state.fault
        if fault == "reset":
            self.rfile.read(min(length, 16))
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            with state.lock:
                state.stats["faults"] += 1
            return
        body = self.rfile.read(length)
        with state.lock:
            state.stats["requests"] += 1
            if fault != "none" and fault != "partial":
                state.stats["faults"] += 1
        if url.path != "/v1/logs":
            return self.answer(404, rpc_status(5, "no such path " + url.path))
        if fault == "garbage":
            self.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
            return
        if fault in ("500", "503"):
            return self.answer(int(fault), rpc_status(14, "injected fault " + fault))
        if fault == "429":
            extra = {"Retry-After": state.retry_after} if state.retry_after else {}
            return self.answer(429, rpc_status(8, "injected throttling"), extra=extra)
        if fault == "badrequest":
            return self.answer(400, rpc_status(3, "injected bad request"))
        if fault == "auth" and state.require_header:
            name, value = state.require_header
            if self.headers.get(name) != value:
                return self.answer(401, rpc_status(16, "missing or wrong " + name))
        self.export(body, fault)

    def export(self, body, fault):
        state = self.server.state
        try:
            if self.headers.get("Content-Type") != "application/x-protobuf":
                raise Violation("Content-Type is %r" % self.headers.get("Content-Type"))
            compressed = self.headers.get("Content-Encoding") == "gzip"
            raw = gzip.decompress(body) if compressed else body
            request = ExportLogsServiceRequest()
            request.ParseFromString(raw)
            if state.summary:  # benchmarks: count the decoded records, check nothing else
                records = [None] * sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
            else:
                records = check_and_flatten(request)
        except Exception as failure:  # a decode error is as much a violation as a rule broken
            with state.lock:
                state.violations.append(str(failure))
            return self.answer(400, rpc_status(3, "tailcar sent a bad request: %s" % failure))
        rejected = min(state.reject, len(records)) if fault == "partial" else 0
        kept = records[:len(records) - rejected]
        headers = {k.lower(): v for k, v in self.headers.items()}
        with state.lock:
            state.stats["records"] += len(kept)
            state.stats["raw_bytes"] += len(raw)
            state.stats["body_bytes"] += len(body)
            if state.records_path and not state.summary:
                with open(state.records_path, "a") as handle:
                    for record in kept:
                        record.update(headers=headers, peer=self.client_address[1], gzip=compressed)
                        handle.write(json.dumps(record) + "\n")
        response = ExportLogsServiceResponse()
        if rejected:
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = "injected partial success"
        self.answer(200, response.SerializeToString())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", default="none", choices=sorted(FAULTS))
    parser.add_argument("--records", help="append accepted log records to this file as JSON lines")
    parser.add_argument("--require-header", help="NAME:VALUE a request must carry under --fault auth")
    parser.add_argument("--summary", action="store_true", help="keep counts only (GET /_stats)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    required = tuple(args.require_header.split(":", 1)) if args.require_header else None
    server.state = State(args.fault, args.records, required, args.summary)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
