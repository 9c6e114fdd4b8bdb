# test_tail_static.py
#
# Owns the checks of the fully static release binary ($TAILCAR_STATIC_BIN): its ELF file asks for no
# interpreter and no shared library, and it runs alone in an otherwise empty chroot (no /proc, no /dev,
# no libraries), collecting a log directory with --exit-when-drained. It does not build the binary.

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tailcar_process import Records, Tailcar, write_pipeline

pytestmark = pytest.mark.static

PT_INTERP = 3
PT_DYNAMIC = 2
DT_NEEDED = 1


@pytest.fixture
def static_binary():
    value = os.environ.get("TAILCAR_STATIC_BIN")
    if not value:
        pytest.skip("TAILCAR_STATIC_BIN is not set (scripts/test.sh sets it after the static build)")
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"static tailcar binary not found at {path}")
    return path


def elf_dependencies(path):
    """(has an interpreter, number of DT_NEEDED entries) read from a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    interp, needed = False, 0
    for i in range(phnum):
        kind, _flags, offset, _vaddr, _paddr, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if kind == PT_INTERP:
            interp = True
        if kind == PT_DYNAMIC:
            for j in range(0, filesz, 16):
                tag, _value = struct.unpack_from("<qQ", data, offset + j)
                if tag == DT_NEEDED:
                    needed += 1
                if tag == 0:
                    break
    return interp, needed


def test_the_static_binary_needs_no_interpreter_and_no_shared_library(static_binary):
    interp, needed = elf_dependencies(static_binary)
    assert not interp, "the binary names a program interpreter (dynamic loader)"
    assert needed == 0, f"the binary needs {needed} shared libraries"
    if shutil.which("file"):
        described = subprocess.run(["file", "-L", str(static_binary)], capture_output=True, text=True).stdout
        assert "statically linked" in described or "static-pie linked" in described, described
    if shutil.which("ldd"):
        result = subprocess.run(["ldd", str(static_binary)], capture_output=True, text=True)
        said = result.stdout + result.stderr
        assert "not a dynamic executable" in said or "statically linked" in said, said


def test_the_static_binary_collects_logs_alone_in_an_empty_chroot(static_binary, workdir):
    if os.geteuid() != 0:
        pytest.skip("chroot needs root")
    if not shutil.which("chroot"):
        pytest.skip("no chroot command on this machine")
    root = workdir / "root"
    (root / "logs").mkdir(parents=True)
    (root / "checkpoints").mkdir()
    shutil.copy2(static_binary, root / "tailcar")
    lines = [f"inside the chroot {i}".encode() for i in range(100)] + [b"bytes \xff\x00 ok"]
    (root / "logs" / "app.log").write_bytes(b"".join(line + b"\n" for line in lines))
    write_pipeline(root / "pipeline.yaml", ["/logs/*.log"], out="/out.jsonl", tail_all=True)
    process = Tailcar("/tailcar", workdir, "chrooted")
    try:
        process.start("/pipeline.yaml", "/checkpoints", exit_when_drained=1, wait_started=False, chroot=root)
        code = process.wait_exit(60)
    finally:
        process.kill()
    assert code == 0, f"exit code {code}; stderr:\n{process.stderr_tail()}"
    records = Records(root / "out.jsonl")
    assert records.contents() == lines
    assert all(r["__path__"] == "/logs/app.log" for r in records.all())
    assert process.events.named("agent_stopped")
