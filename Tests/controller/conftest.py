"""Fixtures for the controller's tests: the API double, the SLS test receiver, and `tailcar controller`
processes that are all stopped at the end."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from kube_double_support import REPO, KubeDouble

sys.path.insert(0, str(REPO / "Tests" / "integration"))
from sls_support import CREDENTIALS, Receiver  # noqa: E402
from tailcar_harness import BINARY, wait_until  # noqa: E402


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ControllerProcess:
    """One `tailcar controller`; its JSON log lines are collected from stderr as they come."""

    def __init__(self, workdir, double, receiver, *extra, identity="ctl-a", env=None, kubeconfig=True):
        self.port = free_port()
        self.events = []
        self.lock = threading.Lock()
        access = []
        if kubeconfig:
            path = double.kubeconfig(Path(workdir) / f"kubeconfig-{identity}", namespace="tailcar-system")
            access = ["--kubeconfig", str(path)]
        environment = {"PATH": os.environ.get("PATH", ""), **CREDENTIALS,
                       "ALICLOUD_LOG_ENDPOINT": f"http://127.0.0.1:{receiver.port}", **(env or {})}
        argv = [str(BINARY), "controller", *access, "--http-port", str(self.port),
                "--identity", identity, "--retry-min", "0.2", "--retry-max", "1", "--watch-timeout", "30",
                "--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5", *extra]
        self.process = subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.process.stderr:
            try:
                event = json.loads(raw)
            except ValueError:
                event = {"event": "unparsed", "text": raw.decode(errors="replace")}
            with self.lock:
                self.events.append(event)

    def named(self, name):
        with self.lock:
            return [e for e in self.events if e.get("event") == name]

    def wait_event(self, name, count=1, timeout=20.0, where=lambda e: True):
        wait_until(lambda: len([e for e in self.named(name) if where(e)]) >= count, timeout=timeout,
                   what=f"{count} {name} events (have {self.summary()})")
        return [e for e in self.named(name) if where(e)]

    def summary(self):
        with self.lock:
            return [(e.get("event"), e.get("resource") or e.get("reason")) for e in self.events][-15:]

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        return self.process.returncode


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="tailcar-ctl-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def double():
    process = KubeDouble("--bookmark-seconds", "0.5")
    yield process
    process.stop()


@pytest.fixture
def receiver(workdir):
    process = Receiver(workdir)
    yield process
    process.stop()


@pytest.fixture
def controllers_for(workdir, receiver):
    """Starts controllers against a given API double (kubeconfig=False: in-cluster, from `env`)."""
    started = []

    def start(double, *extra, identity="ctl-a", env=None, kubeconfig=True):
        if not BINARY.exists():
            pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
        process = ControllerProcess(workdir, double, receiver, *extra, identity=identity, env=env,
                                    kubeconfig=kubeconfig)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(signal.SIGKILL)


@pytest.fixture
def controllers(double, controllers_for):
    def start(*extra, identity="ctl-a", env=None):
        return controllers_for(double, *extra, identity=identity, env=env)

    return start
