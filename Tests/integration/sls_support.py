"""The SLS test receiver (Tests/harness/sls_receiver.py) as a fixture-friendly process, and helpers for
SLS end-to-end tests: numbered lines, what arrived, a test CA for HTTPS, RSS sampling."""

import json
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from tailcar_harness import REPO, wait_until

RECEIVER = REPO / "Tests" / "harness" / "sls_receiver.py"
PYTHON = REPO / ".venv" / "bin" / "python"
KEY_ID = "mockAccessKeyID"
SECRET = "mockAccessKeySecret"
CREDENTIALS = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}


class Receiver:
    """One receiver process; `restart()` brings it back on the same port after `stop()`."""

    def __init__(self, workdir, *extra):
        self.records = Path(workdir) / "received.jsonl"
        self.extra = list(extra)
        self.port = 0
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [str(PYTHON), str(RECEIVER), "--port", str(self.port), "--records", str(self.records),
             "--key", f"{KEY_ID}:{SECRET}", *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.process.stdout.readline().decode()
        assert line.startswith("PORT "), f"receiver did not start: {line!r} {self.process.stderr.read()!r}"
        self.port = int(line.split()[1])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self):
        self.stop()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.start()
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @property
    def scheme(self):
        return "https" if "--tls-cert" in self.extra else "http"

    def control(self, fault):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_control?fault={fault}", data=b"",
                                         method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200

    def groups(self):
        if not self.records.exists():
            return []
        out = []
        with open(self.records) as handle:
            for line in handle:
                # A line without its newline is the one the receiver is writing: stop there, since reading on
                # would start in the middle of it once the rest arrives.
                if not line.endswith("\n"):
                    break
                out.append(json.loads(line))
        return out


def sls_yaml(pattern, receiver, compression=None, project="proj", logstore="store", extra_input=""):
    text = (
        "inputs:\n"
        "  - Type: input_file\n"
        f"    FilePaths: [{json.dumps(str(pattern))}]\n"
        "    TailingAllMatchedFiles: true\n"
        f"{extra_input}"
        "flushers:\n"
        "  - Type: flusher_sls\n"
        f"    Endpoint: {receiver.scheme}://127.0.0.1:{receiver.port}\n"
        f"    Project: {project}\n"
        f"    Logstore: {logstore}\n"
    )
    if compression:
        text += f"    CompressType: {compression}\n"
    return text


def numbered(start, count, width=60):
    """Lines `seq=00000042 xxxx...` numbered from start."""
    pad = "x" * width
    return "".join(f"seq={n:08d} {pad}\n" for n in range(start, start + count))


def sequence_numbers(receiver):
    """Every seq number that arrived, with repeats."""
    seqs = []
    for group in receiver.groups():
        for log in group["logs"]:
            for key, value in log["contents"]:
                if key == "content" and value.startswith("seq="):
                    seqs.append(int(value[4:12]))
    return seqs


def wait_for_sequence(receiver, expected, timeout=60.0):
    """Waits until every number in `expected` arrived; returns the numbers seen (with repeats)."""
    wanted = set(expected)

    def complete():
        seen = sequence_numbers(receiver)
        return seen if wanted <= set(seen) else None

    try:
        return wait_until(complete, timeout=timeout, interval=0.2, what="every line at the receiver")
    except AssertionError:
        missing = sorted(wanted - set(sequence_numbers(receiver)))
        raise AssertionError(f"{len(missing)} lines never arrived, first {missing[:5]}") from None


def make_test_ca(directory):
    """A CA and a server certificate for 127.0.0.1 (IP SAN) made with the openssl CLI; returns paths."""
    directory = Path(directory)
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
                    str(ca_cert), "-days", "2", "-subj", "/CN=Tailcar Test CA"], **quiet)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", "/CN=127.0.0.1"], **quiet)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext)], **quiet)
    return ca_cert, cert, key


class RSSSampler:
    """Samples a process's resident set every 0.2 s on a thread; `peak_kib` is the largest seen."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except OSError:
                return
            self._stop.wait(0.2)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak_kib
