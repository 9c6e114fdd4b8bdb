"""Fixtures for the integration tests in this directory: a scratch directory per test and tailcar
processes that are all killed at the end (helpers in tailcar_harness.py)."""

import shutil
import tempfile
from pathlib import Path

import pytest

from tailcar_harness import BINARY, Tailcar


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="tailcar-it-"))
    (path / "logs").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tailcars():
    """Starts tailcar processes and kills any still running at the end."""
    started = []

    def start(workdir, config_text, *extra, env=None, argv=None):
        if not BINARY.exists():
            pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
        process = Tailcar(workdir, config_text, *extra, env=env, argv=argv)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
