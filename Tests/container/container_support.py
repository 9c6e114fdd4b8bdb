# Tests/container/container_support.py
#
# What every container test shares: podman and buildah on one private storage root (`Engine`), the
# prerequisite check and waiting on a condition; conftest.py builds the image once per session with
# scripts/image.sh (offline: host static binary + buildah, FROM scratch). Without buildah, podman, runc
# or root the tests skip, saying why; under CI=true they fail instead, so a CI machine missing them is
# noticed (scripts/test.sh installs them).
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TAG = f"localhost/tailcar-test:{os.getpid()}"
RUN_TIMEOUT = 60


def missing_prerequisite():
    for tool in ("buildah", "podman", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup-containers.sh installs it)"
    if os.geteuid() != 0:
        return "needs root: rootless podman with vfs storage and runc is not set up here"
    return None


def require_prerequisites():
    missing = missing_prerequisite()
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the container tier cannot run: {missing}", pytrace=False)
    pytest.skip(missing)


class Engine:
    """podman and buildah on one private storage root."""

    def __init__(self, base: Path):
        self.root, self.runroot = base / "root", base / "run"
        self.storage = ["--storage-driver", "vfs", "--root", str(self.root), "--runroot", str(self.runroot)]

    def podman(self, *args, check=True, timeout=RUN_TIMEOUT):
        command = ["podman", *self.storage, "--runtime", "runc", "--cgroup-manager", "cgroupfs",
                   "--events-backend", "file", *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def buildah(self, *args):
        return subprocess.run(["buildah", *self.storage, *args], capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)


def wait_for(condition, what, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
