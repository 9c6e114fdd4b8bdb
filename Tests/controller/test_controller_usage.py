"""`tailcar controller`'s start-up errors: each names what is missing or wrong, exits 2, and shows no secret."""

import os
import subprocess

import pytest

from kube_double_support import REPO
from tailcar_harness import BINARY

KEYS = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "very-secret"}


def run(args, env):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    return subprocess.run([str(BINARY), "controller", *args], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ.get("PATH", ""), **env})


@pytest.mark.parametrize("args, env, message", [
    ([], {**KEYS, "ALICLOUD_LOG_ENDPOINT": "x.log.aliyuncs.com"}, "KUBERNETES_SERVICE_HOST"),
    (["--kubeconfig", "/nonexistent/config"], {**KEYS, "ALICLOUD_LOG_ENDPOINT": "e"}, "/nonexistent/config"),
    (["--kubeconfig", "KUBECONFIG_FILE"], KEYS, "no SLS endpoint"),
    (["--kubeconfig", "KUBECONFIG_FILE", "--sls-endpoint", "ftp://x"], KEYS, "ftp"),
    (["--kubeconfig", "KUBECONFIG_FILE", "--sls-endpoint", "e"], {}, "no AccessKey"),
    (["--kubeconfig", "KUBECONFIG_FILE", "--sls-endpoint", "e", "--lease-duration", "2", "--renew-deadline", "5"],
     KEYS, "--renew-deadline"),
    (["--kubeconfig", "KUBECONFIG_FILE", "--sls-endpoint", "e", "--bogus"], KEYS, "bogus"),
])
def test_start_up_errors_name_the_problem(tmp_path, args, env, message):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n"
                          "    server: http://127.0.0.1:9\ncontexts:\n- name: c\n  context: {cluster: k}\n")
    args = [str(kubeconfig) if a == "KUBECONFIG_FILE" else a for a in args]
    result = run(args, env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "very-secret" not in result.stderr


def test_help_lists_the_controller():
    result = subprocess.run([str(BINARY), "help"], capture_output=True, text=True, timeout=30)
    assert "tailcar controller [options]" in result.stdout and "--kubeconfig PATH" in result.stdout
