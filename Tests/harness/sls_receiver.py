#!/usr/bin/env python3
"""A test SLS receiver on 127.0.0.1 for Tailcar.

Decodes every PutLogs request with the official aliyun-log-python-sdk (its LogGroup protobuf, its lz4/zstd
decompression) and recomputes the v1 signature with the SDK's own signing code (aliyun.log.auth.AuthV1);
a mismatch is answered 401 SignatureNotMatch. Accepted groups are kept in memory (GET /_received returns
them as a JSON list) and, with --records FILE, appended to FILE as JSON lines.

Fault modes (--fault at start, or POST /_control?fault=MODE): none, 500, 429 (WriteQuotaExceed body),
reset (RST after reading part of the request), slow (reads the body a byte at a time), garbage (answers
bytes that are not HTTP), invalid (400 PostBodyInvalid), toolarge (413 PostBodyTooLarge for any request
of more than one log). Prints "PORT <n>" on stdout when ready (--port 0 picks a free port).
With --summary it keeps only counts (GET /_stats: requests, logs, raw and body bytes), for benchmarks.
With --tls-cert and --tls-key it speaks HTTPS. Each recorded group carries the client's port ("peer"), so
tests can tell how many connections carried the requests.

Usage: Tests/harness/.venv/bin/python Tests/harness/sls_receiver.py --port 0 --key mockAccessKeyID:mockAccessKeySecret
"""
import argparse
import json
import re
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qsl

from aliyun.log.auth import AuthV1
from aliyun.log.compress import lz_decompress, zstd_decompress
from aliyun.log.credentials import StaticCredentialsProvider
from aliyun.log.log_logs_pb2 import LogGroup

PUTLOGS = re.compile(r"^/logstores/([^/]+)/shards/(lb|route)$")
FAULTS = {"none", "500", "429", "reset", "slow", "garbage", "invalid", "toolarge"}


class State:
    def __init__(self, keys, fault, records_path, summary=False):
        self.keys = keys
        self.fault = fault
        self.records_path = records_path
        self.summary = summary
        self.stats = {"requests": 0, "logs": 0, "raw_bytes": 0, "body_bytes": 0}
        self.received = []
        self.lock = threading.Lock()

    def record(self, entry):
        with self.lock:
            self.stats["requests"] += 1
            self.stats["logs"] += len(entry["logs"])
            self.stats["raw_bytes"] += entry["raw_size"]
            self.stats["body_bytes"] += entry.get("body_size", 0)
            if self.summary:
                return
            self.received.append(entry)
            if self.records_path:
                with open(self.records_path, "a") as out:
                    out.write(json.dumps(entry) + "\n")


def expected_authorization(key_id, secret, method, path, params, headers, body):
    """The Authorization value the SDK computes for this request, with the request's own Date."""
    date = headers.get("Date", "")

    class PinnedDate(AuthV1):
        @staticmethod
        def _getGMT():
            return date

    # The SDK adds x-log-date after signing, so it is not signed; Authorization is the output.
    to_sign = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-log-date")}
    token = to_sign.get("x-acs-security-token", "")
    PinnedDate(StaticCredentialsProvider(key_id, secret, token)).sign_request(method, path, params, to_sign, body)
    return to_sign.get("Authorization"), to_sign.get("Content-MD5")


def text(value):
    """Content values are bytes in some SDK builds and str in others."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def decode_group(headers, body, summary=False):
    raw_size = int(headers.get("x-log-bodyrawsize", "0"))
    kind = headers.get("x-log-compresstype", "")
    if kind == "lz4":
        raw = lz_decompress(raw_size, body)
    elif kind == "zstd":
        raw = zstd_decompress(raw_size, body)
    elif kind == "":
        raw = body
    else:
        raise ValueError("InvalidCompressType " + kind)
    if len(raw) != raw_size:
        raise ValueError("InvalidBodyRawSize %d != %d" % (len(raw), raw_size))
    group = LogGroup()
    group.ParseFromString(raw)
    if summary:
        return {"logs": group.Logs, "raw_size": raw_size, "body_size": len(body)}
    logs = []
    for log in group.Logs:
        entry = {"time": log.Time, "contents": [[c.Key, text(c.Value)] for c in log.Contents]}
        if log.HasField("Time_ns"):
            entry["time_ns"] = log.Time_ns
        logs.append(entry)
    return {"topic": group.Topic, "source": group.Source, "tags": [[t.Key, t.Value] for t in group.LogTags],
            "logs": logs, "compress": kind, "raw_size": raw_size}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sls-test-receiver"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b"", request_id=None):
        self.send_response(status)
        self.send_header("x-log-requestid", request_id or uuid.uuid4().hex.upper())
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        self.answer(status, json.dumps({"errorCode": code, "errorMessage": message}).encode())

    def do_GET(self):
        if self.path == "/_stats":
            with self.server.state.lock:
                body = json.dumps(self.server.state.stats).encode()
            return self.answer(200, body)
        if self.path == "/_received":
            with self.server.state.lock:
                body = json.dumps(self.server.state.received).encode()
            return self.answer(200, body)
        self.error(404, "NotFound", self.path)

    def read_body(self, fault):
        length = int(self.headers.get("Content-Length", "0"))
        if fault == "reset":
            self.rfile.read(min(length, 16))
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if fault == "slow":
            chunks = []
            for _ in range(length):
                chunks.append(self.rfile.read(1))
                time.sleep(0.001)
            return b"".join(chunks)
        return self.rfile.read(length)

    def do_POST(self):
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == "/_control":
            fault = dict(parse_qsl(url.query)).get("fault", "none")
            if fault not in FAULTS:
                return self.error(400, "ParameterInvalid", "unknown fault " + fault)
            state.fault = fault
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            return self.answer(200)
        fault = state.fault
        body = self.read_body(fault)
        if body is None:
            self.close_connection = True
            return
        if fault == "garbage":
            self.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
            return
        if fault == "500":
            return self.error(500, "InternalServerError", "injected fault")
        if fault == "429":
            return self.error(429, "WriteQuotaExceed", "Project write quota exceed (injected)")
        if fault == "invalid":
            return self.error(400, "PostBodyInvalid", "injected fault")
        self.put_logs(url, body, fault)

    def put_logs(self, url, body, fault="none"):
        match = PUTLOGS.match(url.path)
        if not match:
            return self.error(404, "NotFound", url.path)
        headers = {k: v for k, v in self.headers.items()}
        auth = headers.get("Authorization", "")
        key_id = auth[4:].split(":", 1)[0] if auth.startswith("LOG ") else ""
        secret = self.server.state.keys.get(key_id)
        if secret is None:
            return self.error(401, "InvalidAccessKeyId", "unknown access key id " + key_id)
        params = dict(parse_qsl(url.query))
        expected, md5 = expected_authorization(key_id, secret, "POST", url.path, params, headers, body)
        if headers.get("Content-MD5") != md5:
            return self.error(400, "InvalidContentMD5", "Content-MD5 does not match the body")
        if auth != expected:
            return self.error(401, "SignatureNotMatch", "expected " + str(expected))
        try:
            group = decode_group(headers, body, self.server.state.summary)
        except Exception as failure:  # the SDK raises several types; all mean the body is unusable
            return self.error(400, "PostBodyInvalid", str(failure))
        if fault == "toolarge" and len(group["logs"]) > 1:
            return self.error(413, "PostBodyTooLarge", "injected: more than one log")
        if self.server.state.summary:
            self.server.state.record(group)
            return self.answer(200)
        group["logstore"] = match.group(1)
        group["host"] = headers.get("Host", "")
        group["token"] = headers.get("x-acs-security-token")
        group["peer"] = self.client_address[1]
        self.server.state.record(group)
        self.answer(200)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", action="append", default=[], help="ACCESS_KEY_ID:SECRET (repeatable)")
    parser.add_argument("--fault", default="none", choices=sorted(FAULTS))
    parser.add_argument("--records", help="append accepted groups to this file as JSON lines")
    parser.add_argument("--summary", action="store_true", help="keep counts only (GET /_stats)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args()
    keys = dict(k.split(":", 1) for k in (args.key or ["mockAccessKeyID:mockAccessKeySecret"]))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.state = State(keys, args.fault, args.records, args.summary)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
