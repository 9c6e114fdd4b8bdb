# conftest.py
#
# Owns the pytest fixtures of the integration tier: the binary under test (skipping cleanly when it is
# not built), a temporary work directory removed even on failure, and a factory for `tailcar` processes
# that are all killed in the finalizer. It does not own assertions or the process helpers (tailcar_process.py).

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tailcar_process import Tailcar, tailcar_bin  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "model: seeded model test of rotation, truncation and restarts")
    config.addinivalue_line("markers", "model_long: extra model seeds selected by TAILCAR_MODEL_SEEDS")
    config.addinivalue_line("markers", "static: checks of the fully static release binary")


@pytest.fixture(scope="session")
def binary():
    path = tailcar_bin()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"tailcar binary not found at {path} (build it with `swift build` or set TAILCAR_BIN)")
    return path


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="tailcar-it-"))
    (path / "logs").mkdir()
    (path / "checkpoints").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tailcar(binary, workdir):
    """Factory: tailcar(name) returns a not-yet-started Tailcar; every one is killed at teardown."""
    started = []

    def make(name="tailcar"):
        process = Tailcar(binary, workdir, f"{name}{len(started)}")
        started.append(process)
        return process

    yield make
    for process in started:
        process.kill()
