# Tests/deploy/kube_discovery.py
#
# A loopback stand-in for the one thing `kubectl apply --dry-run=client` asks a cluster for: API
# discovery (which kinds exist, under which resource names, namespaced or not), and the lookup of the
# live object, answered "not found". It serves the built-in kinds the manifests use and, for custom
# resources, what the CustomResourceDefinitions in deploy/ declare, as an API server does once they are
# applied. It stores and validates nothing: kubectl itself decodes and checks every manifest.
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUILT_IN = {
    "v1": [("configmaps", "ConfigMap", True), ("secrets", "Secret", True), ("namespaces", "Namespace", False),
           ("serviceaccounts", "ServiceAccount", True)],
    "rbac.authorization.k8s.io/v1": [("clusterroles", "ClusterRole", False), ("clusterrolebindings", "ClusterRoleBinding", False),
                                     ("roles", "Role", True), ("rolebindings", "RoleBinding", True)],
    "batch/v1": [("jobs", "Job", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "apiextensions.k8s.io/v1": [("customresourcedefinitions", "CustomResourceDefinition", False)],
}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resources_from_crds(crds):
    served = {}
    for crd in crds:
        spec = crd["spec"]
        for version in spec["versions"]:
            names = spec["names"]
            served.setdefault(f"{spec['group']}/{version['name']}", []).append(
                (names["plural"], names["kind"], spec["scope"] == "Namespaced"))
    return served


class DiscoveryServer:
    def __init__(self, crds=()):
        self.groups = {**BUILT_IN, **resources_from_crds(crds)}
        self.requests = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def answer(self, path):
        """(status, body) for a GET of `path`."""
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if path == "/apis":
            groups = [{"name": gv.split("/")[0],
                       "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                       "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]}}
                      for gv in self.groups if "/" in gv]
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        group_version = "v1" if path == "/api/v1" else path.removeprefix("/apis/")
        if group_version in self.groups:
            resources = [{"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind,
                          "verbs": VERBS} for plural, kind, namespaced in self.groups[group_version]]
            return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                         "resources": resources}
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                     "code": 404, "message": f"{path} not found"}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                server.requests.append(path)
                status, body = server.answer(path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
