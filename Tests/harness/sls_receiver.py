#!/usr/bin/env python3
"""A test SLS receiver on 127.0.0.1 for Tailcar.

Decodes every PutLogs request with the official aliyun-log-python-sdk (its LogGroup protobuf, its lz4/zstd
decompression) and recomputes the v1 signature with the SDK's own signing code (aliyun.log.auth.AuthV1);
a mismatch is answered 401 SignatureNotMatch. Accepted groups are kept in memory (GET /_received returns
them as a JSON list) and, with --records FILE, appended to FILE as JSON lines.

Also the control-plane calls `tailcar bootstrap` makes (CreateProject, CreateLogStore, CreateIndex,
CreateMachineGroup, CreateConfig, ListAppliedConfigs, ApplyConfigToMachineGroup), signature-checked the
same way, with the project taken from the Host header (`{project}.127.0.0.1:PORT`). What they create is
kept in memory (GET /_resources returns it as JSON); creating a resource again is answered with the SLS
"already exists" error codes the SDK's own helpers check for (ProjectAlreadyExist, LogStoreAlreadyExist,
IndexAlreadyExist, MachineGroupAlreadyExist, ConfigAlreadyExist), and a missing parent with
ProjectNotExist, LogStoreNotExist, MachineGroupNotExist or ConfigNotExist.

And the console's reads (sls_console.py): ListProject, ListMachineGroup (pages of at most --page-limit),
GetMachineGroup, GetAppliedConfigs, GetConfig, GetLogtailPipelineConfig, each signature-checked; POST
/_admin edits what the console holds, GET /_requests lists the control-plane calls received.
UpdateConfig (PUT /configs/{name}) replaces a config, as the controller does for a changed resource; POST
/_admin {"op": "keys", "keys": {"ID": "SECRET"}} changes the accepted AccessKeys (refused credentials);
{"op": "delay", "seconds": S} makes every control-plane call wait S seconds before its answer (a slow SLS).

Fault modes (--fault at start, or POST /_control?fault=MODE): none, 500, 429 (WriteQuotaExceed body),
reset (RST after reading part of the request), slow (reads the body a byte at a time), garbage (answers
bytes that are not HTTP), invalid (400 PostBodyInvalid), toolarge (413 PostBodyTooLarge for any request
of more than one log). Prints "PORT <n>" on stdout when ready (--port 0 picks a free port).
With --summary it keeps only counts (GET /_stats: requests, logs, raw and body bytes), for benchmarks.
With --sink it checks and decodes nothing and counts requests, raw and body bytes only (logs stay 0): a
wall-clock benchmark's sink, which must not take the CPU the agent under test is measured on.
With --latency it also takes, for every tenth log whose content starts with an ISO-8601 write time
(tailcar-gen --real-time), the milliseconds from that time to the request's arrival; GET /_latency returns
their count, p50 and p99 ({"count": n, "p50": ms, "p99": ms}) and starts afresh.
With --tls-cert and --tls-key it speaks HTTPS. Each recorded group carries the client's port ("peer"), so
tests can tell how many connections carried the requests.

Usage: Tests/harness/.venv/bin/python Tests/harness/sls_receiver.py --port 0 --key mockAccessKeyID:mockAccessKeySecret
"""
import argparse
import datetime
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

import sls_console

PUTLOGS = re.compile(r"^/logstores/([^/]+)/shards/(lb|route)$")
INDEX = re.compile(r"^/logstores/([^/]+)/index$")
APPLIED = re.compile(r"^/machinegroups/([^/]+)/configs$")
APPLY = re.compile(r"^/machinegroups/([^/]+)/configs/([^/]+)$")
IP_HOST = re.compile(r"^[0-9.]+(:[0-9]+)?$|^\[")
FAULTS = {"none", "500", "429", "reset", "slow", "garbage", "invalid", "toolarge"}


class State:
    def __init__(self, keys, fault, records_path, summary=False, latency=False):
        self.latency = latency
        self.delays = []
        self.keys = keys
        self.fault = fault
        self.records_path = records_path
        self.summary = summary
        self.sink = False
        self.stats = {"requests": 0, "logs": 0, "raw_bytes": 0, "body_bytes": 0}
        self.received = []
        self.resources = {"projects": {}, "logstores": {}, "indexes": {}, "machinegroups": {}, "configs": {},
                          "pipelineconfigs": {}, "applied": {}}
        self.page_limit = 500
        # Every control-plane call (method, host, path with query), and whether the console's reads are down.
        self.requests = []
        self.outage = False
        self.control_delay = 0.0
        self.lock = threading.Lock()

    def record(self, entry):
        if self.latency:
            self.take_delays(entry["logs"], entry.pop("arrived"))
        with self.lock:
            self.stats["requests"] += 1
            self.stats["logs"] += len(entry["logs"])
            self.stats["raw_bytes"] += entry["raw_size"]
            self.stats["body_bytes"] += entry.get("body_size", 0)
            if self.summary or self.sink:
                return
            self.received.append(entry)
            if self.records_path:
                with open(self.records_path, "a") as out:
                    out.write(json.dumps(entry) + "\n")

    def take_delays(self, logs, arrived):
        """Milliseconds from every tenth log's write time (its content's leading ISO-8601 time) to `arrived`."""
        delays = []
        for log in logs[::10]:
            for content in log.Contents:
                if content.Key == "content":
                    try:
                        written = datetime.datetime.fromisoformat(text(content.Value)[:29]).timestamp()
                    except ValueError:
                        break
                    delays.append((arrived - written) * 1000)
                    break
        with self.lock:
            self.delays.extend(delays)

    def take_latency(self):
        """Count, p50 and p99 of the delays taken since the last call."""
        with self.lock:
            delays, self.delays = self.delays, []
        delays.sort()
        pick = lambda q: delays[min(len(delays) - 1, int(q * (len(delays) - 1) + 0.5))] if delays else None
        return {"count": len(delays), "p50": pick(0.5), "p99": pick(0.99)}


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


class ControlPlane:
    """One control-plane call against `resources` (the caller holds the state's lock). Answers
    (200, body or None) or (status, (errorCode, errorMessage)) as SLS does."""

    def __init__(self, resources, project, params=None, page_limit=500):
        self.r = resources
        self.project = project
        self.params = params or {}
        self.page_limit = page_limit

    def handle(self, method, path, body):
        if not self.project and method == "GET" and path == "/":
            return sls_console.list_projects(self.r, self.params, self.page_limit)
        if not self.project:
            return 400, ("ProjectNotExist", "the Host header names no project")
        if method == "POST" and path == "/":
            return self.create_project(body or {})
        if self.project not in self.r["projects"]:
            return 404, ("ProjectNotExist", "Project %s does not exist" % self.project)
        if method == "POST" and path == "/logstores":
            return self.create_logstore(body or {})
        match = INDEX.match(path)
        if method == "POST" and match:
            return self.create_index(match.group(1), body or {})
        if method == "POST" and path == "/machinegroups":
            return self.create_group(body or {})
        if method == "POST" and path == "/configs":
            return self.create_config(body or {})
        match = APPLIED.match(path)
        if method == "GET" and match:
            return self.list_applied(match.group(1))
        match = APPLY.match(path)
        if method == "PUT" and match:
            return self.apply(match.group(2), match.group(1))
        match = sls_console.CONFIG.match(path)
        if method == "PUT" and match:
            return self.update_config(match.group(1), body or {})
        if method == "GET":
            answer = sls_console.read(self.r, self.project, path, self.params, self.page_limit)
            if answer is not None:
                return answer
        return 404, ("NotFound", "%s %s" % (method, path))

    def key(self, name):
        return self.project + "/" + name

    def create_project(self, body):
        if body.get("projectName") != self.project:
            return 400, ("ParameterInvalid", "projectName %r differs from the Host's %r"
                         % (body.get("projectName"), self.project))
        if self.project in self.r["projects"]:
            return 400, ("ProjectAlreadyExist", "Project %s already exist" % self.project)
        self.r["projects"][self.project] = {"projectName": self.project, "description": body.get("description", "")}
        return 200, None

    def create_logstore(self, body):
        name, ttl, shards = body.get("logstoreName"), body.get("ttl"), body.get("shardCount")
        if not isinstance(name, str) or not isinstance(ttl, int) or not isinstance(shards, int):
            return 400, ("ParameterInvalid", "logstoreName, ttl and shardCount are required")
        if self.key(name) in self.r["logstores"]:
            return 400, ("LogStoreAlreadyExist", "logstore %s already exist" % name)
        self.r["logstores"][self.key(name)] = body
        return 200, None

    def create_index(self, logstore, body):
        if self.key(logstore) not in self.r["logstores"]:
            return 404, ("LogStoreNotExist", "logstore %s does not exist" % logstore)
        if "line" not in body and "keys" not in body:
            return 400, ("ParameterInvalid", "an index needs line or keys")
        if self.key(logstore) in self.r["indexes"]:
            return 400, ("IndexAlreadyExist", "log store index is already created")
        self.r["indexes"][self.key(logstore)] = body
        return 200, None

    def create_group(self, body):
        name = body.get("groupName")
        if not isinstance(name, str) or body.get("machineIdentifyType") not in ("ip", "userdefined") \
                or not isinstance(body.get("machineList"), list):
            return 400, ("ParameterInvalid", "groupName, machineIdentifyType (ip|userdefined), machineList")
        if self.key(name) in self.r["machinegroups"]:
            return 400, ("MachineGroupAlreadyExist", "MachineGroup %s already exist" % name)
        self.r["machinegroups"][self.key(name)] = body
        return 200, None

    def create_config(self, body):
        name = body.get("configName")
        output = body.get("outputDetail") or {}
        if not isinstance(name, str) or body.get("inputType") not in ("file", "plugin") \
                or not isinstance(body.get("inputDetail"), dict):
            return 400, ("ParameterInvalid", "configName, inputType and inputDetail are required")
        if self.key(str(output.get("logstoreName"))) not in self.r["logstores"]:
            return 404, ("LogStoreNotExist", "logstore %s does not exist" % output.get("logstoreName"))
        if self.key(name) in self.r["configs"]:
            return 400, ("ConfigAlreadyExist", "config %s already exist" % name)
        self.r["configs"][self.key(name)] = body
        return 200, None

    def update_config(self, name, body):
        """UpdateConfig: the whole config object replaces the one of that name."""
        if self.key(name) not in self.r["configs"]:
            return 404, ("ConfigNotExist", "config %s does not exist" % name)
        if body.get("configName") != name or not isinstance(body.get("inputDetail"), dict):
            return 400, ("ParameterInvalid", "configName must be %s and inputDetail an object" % name)
        self.r["configs"][self.key(name)] = body
        return 200, None

    def list_applied(self, group):
        if self.key(group) not in self.r["machinegroups"]:
            return 404, ("MachineGroupNotExist", "MachineGroup %s does not exist" % group)
        configs = self.r["applied"].get(self.key(group), [])
        return 200, {"count": len(configs), "configs": configs}

    def apply(self, config, group):
        if self.key(group) not in self.r["machinegroups"]:
            return 404, ("MachineGroupNotExist", "MachineGroup %s does not exist" % group)
        if self.key(config) not in self.r["configs"]:
            return 404, ("ConfigNotExist", "config %s does not exist" % config)
        applied = self.r["applied"].setdefault(self.key(group), [])
        if config not in applied:
            applied.append(config)
        return 200, None


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
        if self.path == "/_latency":
            return self.answer(200, json.dumps(self.server.state.take_latency()).encode())
        if self.path == "/_stats":
            with self.server.state.lock:
                body = json.dumps(self.server.state.stats).encode()
            return self.answer(200, body)
        if self.path == "/_received":
            with self.server.state.lock:
                body = json.dumps(self.server.state.received).encode()
            return self.answer(200, body)
        if self.path == "/_resources":
            with self.server.state.lock:
                body = json.dumps(self.server.state.resources).encode()
            return self.answer(200, body)
        if self.path == "/_requests":
            with self.server.state.lock:
                body = json.dumps(self.server.state.requests).encode()
            return self.answer(200, body)
        self.control_plane("GET", urlsplit(self.path), b"")

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.control_plane("PUT", urlsplit(self.path), body)

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
        if url.path == "/_admin":
            command = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with state.lock:
                if command.get("op") == "reset_requests":
                    state.requests, status, answer = [], 200, {}
                elif command.get("op") == "keys":
                    state.keys, status, answer = dict(command["keys"]), 200, {}
                elif command.get("op") == "delay":
                    state.control_delay, status, answer = float(command["seconds"]), 200, {}
                elif command.get("op") == "outage":
                    state.outage, status, answer = bool(command.get("on")), 200, {}
                else:
                    status, answer = sls_console.admin(state.resources, command)
            return self.answer(status, json.dumps(answer).encode())
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

    def authenticate(self, method, url, headers, body):
        """Checks the key id, Content-MD5 and the v1 signature; answers the error and returns False."""
        auth = headers.get("Authorization", "")
        key_id = auth[4:].split(":", 1)[0] if auth.startswith("LOG ") else ""
        secret = self.server.state.keys.get(key_id)
        if secret is None:
            self.error(401, "InvalidAccessKeyId", "unknown access key id " + key_id)
            return False
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        expected, md5 = expected_authorization(key_id, secret, method, url.path, params, headers, body)
        if headers.get("Content-MD5") != md5:
            self.error(400, "InvalidContentMD5", "Content-MD5 does not match the body")
            return False
        if auth != expected:
            self.error(401, "SignatureNotMatch", "expected " + str(expected))
            return False
        return True

    def control_plane(self, method, url, body):
        """The control-plane calls: signature first, then the in-memory resources (ControlPlane). During a
        console outage (POST /_admin {"op": "outage", "on": true}) reads get no answer: the connection is reset."""
        if method == "GET" and self.server.state.outage:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if self.server.state.control_delay:
            time.sleep(self.server.state.control_delay)
        headers = {k: v for k, v in self.headers.items()}
        if not self.authenticate(method, url, headers, body):
            return
        host = headers.get("Host", "")
        project = "" if IP_HOST.match(host) else host.split(".", 1)[0]
        target = url.path + ("?" + url.query if url.query else "")
        with self.server.state.lock:
            self.server.state.requests.append({"method": method, "host": host, "path": target})
        document = None
        if body:
            if headers.get("Content-Type") != "application/json":
                return self.error(400, "InvalidContentType", "expected application/json")
            try:
                document = json.loads(body)
            except ValueError as failure:
                return self.error(400, "PostBodyInvalid", "body is not JSON: %s" % failure)
        with self.server.state.lock:
            status, answer = ControlPlane(self.server.state.resources, project, dict(parse_qsl(url.query)),
                                         self.server.state.page_limit).handle(method, url.path, document)
        if status == 200:
            return self.answer(200, json.dumps(answer).encode() if answer is not None else b"")
        self.error(status, answer[0], answer[1])

    def put_logs(self, url, body, fault="none"):
        match = PUTLOGS.match(url.path)
        if not match:
            return self.control_plane("POST", url, body)
        arrived = time.time()
        headers = {k: v for k, v in self.headers.items()}
        if self.server.state.sink:
            self.server.state.record({"logs": [], "raw_size": int(headers.get("x-log-bodyrawsize", "0")),
                                      "body_size": len(body)})
            return self.answer(200)
        if not self.authenticate("POST", url, headers, body):
            return
        try:
            group = decode_group(headers, body, self.server.state.summary)
        except Exception as failure:  # the SDK raises several types; all mean the body is unusable
            return self.error(400, "PostBodyInvalid", str(failure))
        if self.server.state.latency:
            group["arrived"] = arrived
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
    parser.add_argument("--sink", action="store_true", help="count bytes only: no signature check, no decoding")
    parser.add_argument("--latency", action="store_true",
                        help="with --summary: keep each log's delay from its content's leading write time (GET /_latency)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    parser.add_argument("--page-limit", type=int, default=500, help="longest page of a list answer")
    args = parser.parse_args()
    keys = dict(k.split(":", 1) for k in (args.key or ["mockAccessKeyID:mockAccessKeySecret"]))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.state = State(keys, args.fault, args.records, args.summary, args.latency)
    server.state.page_limit = args.page_limit
    server.state.sink = args.sink
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
