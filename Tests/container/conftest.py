# Tests/container/conftest.py
#
# The `engine` fixture: the image built once per session with scripts/image.sh into private storage, and
# everything the tests made removed at the end (container_support.py has the helpers).
import os
import shutil
import subprocess

import pytest

from container_support import REPO, TAG, Engine, require_prerequisites


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    require_prerequisites()
    base = tmp_path_factory.mktemp("containers")
    engine = Engine(base)
    command = ["bash", str(REPO / "scripts/image.sh"), "--tag", TAG,
               "--root", str(engine.root), "--runroot", str(engine.runroot)]
    if os.environ.get("TAILCAR_STATIC_BIN"):
        command += ["--binary", os.environ["TAILCAR_STATIC_BIN"]]
    built = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=REPO)
    assert built.returncode == 0, f"scripts/image.sh failed:\n{built.stderr}"
    yield engine
    engine.podman("rm", "--all", "--force", "--time", "0", check=False)
    engine.podman("rmi", "--all", "--force", check=False)
    engine.buildah("rm", "--all")
    engine.podman("system", "prune", "--all", "--force", check=False)
    subprocess.run(["umount", "-R", str(engine.runroot)], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
