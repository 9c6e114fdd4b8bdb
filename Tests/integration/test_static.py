"""The fully static binary runs where nothing else is: an empty chroot with no /proc, no libraries,
no /etc. It tails a file there and exits 0 when drained."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest


STATIC = os.environ.get("TAILCAR_STATIC_BIN")


@pytest.mark.skipif(not STATIC, reason="TAILCAR_STATIC_BIN not set (scripts/test.sh builds it)")
@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_the_static_binary_tails_a_file_inside_an_empty_chroot(workdir):
    described = subprocess.run(["file", "-L", STATIC], capture_output=True, text=True, timeout=10).stdout
    assert "statically linked" in described or "static-pie linked" in described, described
    root = workdir / "root"
    (root / "logs").mkdir(parents=True)
    shutil.copy(STATIC, root / "tailcar")
    (root / "logs/app.log").write_bytes(b"inside the chroot\nsecond line\n")
    (root / "pipeline.yaml").write_text(
        "inputs:\n  - Type: input_file\n    FilePaths: [/logs/*.log]\n    TailingAllMatchedFiles: true\n"
        "flushers:\n  - Type: flusher_file\n    FilePath: /out.jsonl\n")
    assert sorted(p.name for p in root.iterdir()) == ["logs", "pipeline.yaml", "tailcar"]
    result = subprocess.run(
        [shutil.which("chroot") or "/usr/sbin/chroot", str(root), "/tailcar", "run", "--config", "/pipeline.yaml", "--checkpoint-dir", "/state",
         "--exit-when-drained", "0.3"],
        capture_output=True, timeout=30, env={})
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    lines = (root / "out.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"content":"inside the chroot"' in lines[0]
    assert (root / "state/checkpoints.v1").exists()
