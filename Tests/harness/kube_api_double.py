"""A Kubernetes API double for the controller's tests: AliyunLogConfig resources
(log.alibabacloud.com/v1alpha1, namespaced, with the status subresource) and coordination.k8s.io/v1 Leases, in
the API server's wire format. No API server can be installed on the test machines; this serves what the
controller uses, as the API server answers it:

- list (`GET .../aliyunlogconfigs`, all namespaces or one): `{"kind": "AliyunLogConfigList", "metadata":
  {"resourceVersion": "N"}, "items": [...]}`;
- watch (`?watch=1&resourceVersion=N&allowWatchBookmarks=true&timeoutSeconds=S`): a chunked stream of JSON
  lines `{"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": {...}}`; a resourceVersion older
  than the last compaction answers one ERROR event with a 410 Status (`Expired`), as the API server does;
  without a resourceVersion (or "0") the current objects come first as ADDED;
- create (POST), get, replace (PUT, optimistic on metadata.resourceVersion: 409 Conflict), merge and JSON
  patches (PATCH), delete; a changed spec bumps metadata.generation, the status subresource
  (`.../{name}/status`) changes the status alone and the main resource ignores status;
- errors as `Status` objects (`{"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}`);
- `Authorization: Bearer <token>` is required when --token is given (401 otherwise).

Test controls (not part of the API): POST /_double/drop closes every open watch without the last chunk (a
dropped connection); POST /_double/compact makes every resourceVersion so far too old and drops the open
watches (an API server restarted after a compaction: the next watch from an old version gets a 410 ERROR
event, or with {"http": true} an HTTP 410 answer); GET /_double/requests lists the requests (method, path with query, content type, user agent); POST
/_double/refuse {"status": 500, "count": n, "agent"?: "..."} answers the next n API requests (from that
User-Agent) with that status; POST /_double/token
{"token": "..."} changes the bearer token required (a rotated service-account token); POST /_double/garbage
drops the open watches and starts the next one with a line that is not JSON. --tls-cert and --tls-key
serve HTTPS, as the API server does to a pod.
"""

import argparse
import copy
import json
import re
import socket
import ssl
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

KINDS = {
    ("log.alibabacloud.com", "v1alpha1", "aliyunlogconfigs"): ("AliyunLogConfig", True),
    ("coordination.k8s.io", "v1", "leases"): ("Lease", False),
}
ROUTE = re.compile(r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)"
                   r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>status))?$")


def now_text():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target, operations):
    """RFC 6902's add, replace and remove (what clients send for status)."""
    result = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = result
        for part in parts[:-1]:
            parent = parent.setdefault(part, {})
        if op["op"] in ("add", "replace"):
            parent[parts[-1]] = op["value"]
        elif op["op"] == "remove":
            parent.pop(parts[-1], None)
        else:
            raise ValueError("unsupported op " + op["op"])
    return result


class Store:
    def __init__(self):
        self.lock = threading.Condition()
        self.revision = 100
        self.compacted = 0
        self.objects = {}      # (kind key, ns, name) -> object
        self.history = []      # (revision, kind key, type, object)
        self.drops = 0
        self.requests = []
        self.refuse = {"status": 0, "count": 0}
        self.garbage = 0
        self.gone_as_status = False

    def bump(self):
        self.revision += 1
        return str(self.revision)

    def record(self, kind, kind_type, obj):
        self.history.append((int(obj["metadata"]["resourceVersion"]), kind, kind_type, copy.deepcopy(obj)))
        self.lock.notify_all()

    def listing(self, kind, ns):
        return [copy.deepcopy(o) for (k, n, _), o in sorted(self.objects.items()) if k == kind and (ns is None or n == ns)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-api-double"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def fail(self, code, reason, message):
        self.send_json(code, status_object(code, reason, message))

    def read_json(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        url = urlsplit(self.path)
        store = self.server.store
        if url.path.startswith("/_double/"):
            return self.control(method, url.path)
        with store.lock:
            store.requests.append({"method": method, "path": self.path,
                                   "content_type": self.headers.get("Content-Type", ""),
                                   "agent": self.headers.get("User-Agent", "")})
            refuse = store.refuse["count"] > 0 and store.refuse.get("agent") in (None, self.headers.get("User-Agent"))
            if refuse:
                store.refuse["count"] -= 1
                code = store.refuse["status"]
        token = self.server.token
        if token and self.headers.get("Authorization", "") != "Bearer " + token:
            self.read_json()
            return self.fail(401, "Unauthorized", "Unauthorized")
        if refuse:
            self.read_json()
            return self.fail(code, "InternalError", "refused by the test")
        match = ROUTE.match(url.path)
        kind = match and (match["group"], match["version"], match["plural"])
        if not match or kind not in KINDS:
            self.read_json()
            return self.fail(404, "NotFound", "the server could not find the requested resource")
        params = dict(parse_qsl(url.query))
        try:
            body = self.read_json()
        except ValueError as failure:
            return self.fail(400, "BadRequest", "body is not JSON: %s" % failure)
        ns, name, sub = match["ns"], match["name"], match["sub"]
        if name is None:
            if method == "GET" and params.get("watch") in ("1", "true"):
                return self.watch(kind, ns, params)
            if method == "GET":
                return self.list(kind, ns)
            if method == "POST" and ns:
                return self.create(kind, ns, body)
            return self.fail(405, "MethodNotAllowed", method + " on a collection")
        if ns is None:
            return self.fail(404, "NotFound", "namespaced resource without a namespace")
        if method == "GET":
            return self.get(kind, ns, name)
        if method == "PUT":
            return self.replace(kind, ns, name, body, sub)
        if method == "PATCH":
            return self.patch(kind, ns, name, body, sub)
        if method == "DELETE" and not sub:
            return self.delete(kind, ns, name)
        return self.fail(405, "MethodNotAllowed", method)

    def control(self, method, path):
        store = self.server.store
        body = self.read_json() if method == "POST" else None
        with store.lock:
            if path == "/_double/requests":
                return self.send_json(200, store.requests)
            if path == "/_double/drop":
                store.drops += 1
                store.lock.notify_all()
                return self.send_json(200, {"drops": store.drops})
            if path == "/_double/compact":
                store.gone_as_status = bool((body or {}).get("http"))
                store.bump()
                store.compacted = store.revision
                store.drops += 1
                store.lock.notify_all()
                return self.send_json(200, {"compacted": store.compacted})
            if path == "/_double/garbage":
                store.garbage += 1
                store.drops += 1
                store.lock.notify_all()
                return self.send_json(200, {})
            if path == "/_double/token":
                self.server.token = body["token"]
                return self.send_json(200, {})
            if path == "/_double/refuse":
                store.refuse = {"status": int(body["status"]), "count": int(body["count"]), "agent": body.get("agent")}
                return self.send_json(200, store.refuse)
        self.fail(404, "NotFound", path)

    def dress(self, kind, obj):
        group, version, _ = kind
        obj["apiVersion"] = group + "/" + version
        obj["kind"] = KINDS[kind][0]
        return obj

    def list(self, kind, ns):
        store = self.server.store
        with store.lock:
            items = [self.dress(kind, o) for o in store.listing(kind, ns)]
            revision = str(store.revision)
        self.send_json(200, {"apiVersion": kind[0] + "/" + kind[1], "kind": KINDS[kind][0] + "List",
                             "metadata": {"resourceVersion": revision}, "items": items})

    def get(self, kind, ns, name):
        store = self.server.store
        with store.lock:
            obj = store.objects.get((kind, ns, name))
            if obj is None:
                return self.fail(404, "NotFound", '%s "%s" not found' % (kind[2], name))
            return self.send_json(200, self.dress(kind, copy.deepcopy(obj)))

    def create(self, kind, ns, body):
        store = self.server.store
        if not isinstance(body, dict) or not body.get("metadata", {}).get("name"):
            return self.fail(422, "Invalid", "metadata.name is required")
        name = body["metadata"]["name"]
        with store.lock:
            if (kind, ns, name) in store.objects:
                return self.fail(409, "AlreadyExists", '%s "%s" already exists' % (kind[2], name))
            obj = self.dress(kind, copy.deepcopy(body))
            meta = obj["metadata"]
            meta.update({"namespace": ns, "uid": str(uuid.uuid4()), "creationTimestamp": now_text(),
                         "resourceVersion": store.bump()})
            if KINDS[kind][1]:
                meta["generation"] = 1
                obj.pop("status", None)
            store.objects[(kind, ns, name)] = obj
            store.record(kind, "ADDED", obj)
            return self.send_json(201, copy.deepcopy(obj))

    def store_update(self, kind, ns, name, updated, sub, expected_version):
        """Replaces the object with `updated` (its spec alone for the main resource of a kind with a status
        subresource, its status alone for .../status); answers 409 on a stale resourceVersion."""
        store = self.server.store
        current = store.objects.get((kind, ns, name))
        if current is None:
            return self.fail(404, "NotFound", '%s "%s" not found' % (kind[2], name))
        if expected_version and expected_version != current["metadata"]["resourceVersion"]:
            return self.fail(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                             'modified; please apply your changes to the latest version and try again'
                             % (kind[2], name))
        obj = copy.deepcopy(current)
        has_status = KINDS[kind][1]
        if sub == "status":
            obj["status"] = copy.deepcopy(updated.get("status"))
        elif has_status:
            for key, value in updated.items():
                if key not in ("metadata", "status", "apiVersion", "kind"):
                    obj[key] = copy.deepcopy(value)
            for key in [k for k in obj if k not in updated and k not in ("metadata", "status", "apiVersion", "kind")]:
                del obj[key]
            for key in ("labels", "annotations"):
                if key in updated.get("metadata", {}):
                    obj["metadata"][key] = updated["metadata"][key]
            if obj.get("spec") != current.get("spec"):
                obj["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        else:
            meta = obj["metadata"]
            obj = copy.deepcopy(updated)
            obj["metadata"] = dict(meta, **{k: v for k, v in updated.get("metadata", {}).items()
                                            if k in ("labels", "annotations")})
        if obj == current:
            return self.send_json(200, copy.deepcopy(current))
        obj["metadata"]["resourceVersion"] = store.bump()
        self.dress(kind, obj)
        store.objects[(kind, ns, name)] = obj
        store.record(kind, "MODIFIED", obj)
        return self.send_json(200, copy.deepcopy(obj))

    def replace(self, kind, ns, name, body, sub):
        if not isinstance(body, dict):
            return self.fail(400, "BadRequest", "the body must be an object")
        with self.server.store.lock:
            return self.store_update(kind, ns, name, body, sub, body.get("metadata", {}).get("resourceVersion"))

    def patch(self, kind, ns, name, body, sub):
        kind_type = self.headers.get("Content-Type", "").split(";")[0].strip()
        store = self.server.store
        with store.lock:
            current = store.objects.get((kind, ns, name))
            if current is None:
                return self.fail(404, "NotFound", '%s "%s" not found' % (kind[2], name))
            try:
                if kind_type == "application/json-patch+json":
                    updated = json_patch(current, body)
                elif kind_type == "application/merge-patch+json":
                    updated = merge_patch(current, body)
                else:
                    return self.fail(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                                     "format - accepted media types include: application/json-patch+json, "
                                     "application/merge-patch+json")
            except (KeyError, ValueError, TypeError, AttributeError) as failure:
                return self.fail(422, "Invalid", "patch: %s" % failure)
            expected = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
            return self.store_update(kind, ns, name, updated, sub, expected)

    def delete(self, kind, ns, name):
        store = self.server.store
        with store.lock:
            obj = store.objects.pop((kind, ns, name), None)
            if obj is None:
                return self.fail(404, "NotFound", '%s "%s" not found' % (kind[2], name))
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = store.bump()
            store.record(kind, "DELETED", obj)
        self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": {"name": name, "kind": kind[2], "uid": obj["metadata"]["uid"]}})

    # MARK: watch

    def chunk(self, document):
        data = json.dumps(document).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, kind, ns, params):
        store = self.server.store
        version = params.get("resourceVersion", "")
        bookmarks = params.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(params.get("timeoutSeconds", "1800"))
        deadline = time.monotonic() + timeout
        with store.lock:
            gone_as_status = store.gone_as_status and version not in ("", "0") and int(version) < store.compacted
        if gone_as_status:
            return self.fail(410, "Expired", "too old resource version: %s (%d)" % (version, store.compacted))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            with store.lock:
                drops = store.drops
                garbage, store.garbage = store.garbage, 0
                if version in ("", "0"):
                    pending = [("ADDED", self.dress(kind, o)) for o in store.listing(kind, ns)]
                    seen = store.revision
                elif int(version) < store.compacted:
                    pending, seen = None, 0
                else:
                    seen = int(version)
                    pending = []
            if garbage:
                data = b"\x00\xffNOT JSON {\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            if pending is None:
                self.chunk({"type": "ERROR", "object": status_object(
                    410, "Expired", "too old resource version: %s (%d)" % (version, store.compacted))})
                return self.end_stream()
            for event_type, obj in pending:
                self.chunk({"type": event_type, "object": obj})
            last_bookmark = time.monotonic()
            while True:
                with store.lock:
                    events = [(t, o) for (rv, k, t, o) in store.history
                              if k == kind and rv > seen and (ns is None or o["metadata"]["namespace"] == ns)]
                    if not events and store.drops == drops:
                        left = min(deadline, last_bookmark + self.server.bookmark_seconds) - time.monotonic()
                        if left > 0:
                            store.lock.wait(left)
                        events = [(t, o) for (rv, k, t, o) in store.history
                                  if k == kind and rv > seen and (ns is None or o["metadata"]["namespace"] == ns)]
                    dropped = store.drops != drops
                    revision = store.revision
                if dropped:
                    return self.drop()
                for event_type, obj in events:
                    seen = max(seen, int(obj["metadata"]["resourceVersion"]))
                    self.chunk({"type": event_type, "object": copy.deepcopy(obj)})
                if time.monotonic() >= deadline:
                    return self.end_stream()
                if bookmarks and time.monotonic() - last_bookmark >= self.server.bookmark_seconds:
                    seen = max(seen, revision) if not events else seen
                    self.chunk({"type": "BOOKMARK", "object": {
                        "kind": KINDS[kind][0], "apiVersion": kind[0] + "/" + kind[1],
                        "metadata": {"resourceVersion": str(seen)}}})
                    last_bookmark = time.monotonic()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self):
        """Closes the stream mid-way, as a restarted API server or a load balancer does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="", help="require Authorization: Bearer TOKEN")
    parser.add_argument("--bookmark-seconds", type=float, default=2.0, help="interval of BOOKMARK events")
    parser.add_argument("--idle-seconds", type=float, help="close a keep-alive connection idle this long")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args()
    if args.idle_seconds:
        Handler.timeout = args.idle_seconds
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.store = Store()
    server.token = args.token
    server.bookmark_seconds = args.bookmark_seconds
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
