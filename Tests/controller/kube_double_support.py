"""The Kubernetes API double (Tests/harness/kube_api_double.py) as a test process, a kubeconfig that points
at it, and the official `kubernetes` client configured for it."""

import json
import subprocess
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOUBLE = REPO / "Tests" / "harness" / "kube_api_double.py"
PYTHON = REPO / ".venv" / "bin" / "python"
GROUP, VERSION, PLURAL = "log.alibabacloud.com", "v1alpha1", "aliyunlogconfigs"
TOKEN = "test-bearer-token-7c1e"


class KubeDouble:
    def __init__(self, *extra, token=TOKEN, ca=None):
        self.token = token
        self.ca = ca
        self.scheme = "https" if "--tls-cert" in extra else "http"
        self.process = subprocess.Popen([str(PYTHON), str(DOUBLE), "--token", token, *extra],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.process.stdout.readline().decode()
        assert line.startswith("PORT "), f"double did not start: {line!r} {self.process.stderr.read()!r}"
        self.port = int(line.split()[1])
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()

    def control(self, what, body=None):
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.url + "/_double/" + what, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10, context=self.tls_context()) as answer:
            return json.loads(answer.read())

    def requests(self):
        with urllib.request.urlopen(self.url + "/_double/requests", timeout=10, context=self.tls_context()) as answer:
            return json.loads(answer.read())

    def tls_context(self):
        if self.scheme != "https":
            return None
        import ssl
        return ssl.create_default_context(cafile=str(self.ca))

    def kubeconfig(self, path, namespace="default"):
        Path(path).write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: double\n"
            f"clusters:\n- name: double\n  cluster:\n    server: {self.url}\n"
            f"users:\n- name: tester\n  user:\n    token: {self.token}\n"
            f"contexts:\n- name: double\n  context:\n    cluster: double\n    user: tester\n    namespace: {namespace}\n")
        return path

    def client(self):
        from kubernetes import client
        configuration = client.Configuration()
        configuration.host = self.url
        configuration.api_key = {"authorization": "Bearer " + self.token}
        if self.ca:
            configuration.ssl_ca_cert = str(self.ca)
        return client.ApiClient(configuration)


def log_config(name, project="k8s-demo", logstore="app", group="web", paths="/var/log/app", extra_spec=None):
    spec = {"project": project, "logstore": logstore, "machineGroups": [group],
            "logtailConfig": {"configName": name, "inputType": "file",
                              "inputDetail": {"logType": "common_reg_log", "logPath": paths,
                                              "filePattern": "*.log"}}}
    spec.update(extra_spec or {})
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "AliyunLogConfig",
            "metadata": {"name": name}, "spec": spec}
