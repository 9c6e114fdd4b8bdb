# tailcar_process.py
#
# Owns the helpers every integration test uses to drive a real `tailcar` process: writing pipeline
# YAML, starting the binary with stdout/stderr captured to files, waiting on its JSON stderr events and
# on records appearing in flusher output, and stopping it. It does not own any assertion about Tailcar's
# behaviour (the test_*.py files do) and never sleeps to order events: every wait polls with a deadline.

import json
import os
import signal
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "tailcar"

# Generous deadlines: the suite must pass on a loaded 2-core machine.
START_TIMEOUT = 20.0
DELIVERY_TIMEOUT = 20.0
POLL_INTERVAL = 0.05


class WaitTimeout(AssertionError):
    """A condition the test waited for did not become true before its deadline."""


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it returns a truthy value, which is returned; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def tailcar_bin():
    """The binary under test: $TAILCAR_BIN, else <repo>/.build/debug/tailcar."""
    return Path(os.environ.get("TAILCAR_BIN", str(DEFAULT_BIN)))


def _yaml_str(value):
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(str(value))


def write_pipeline(path, file_paths, flusher="file", out=None, max_depth=0, tail_all=False, tail_size_kb=None):
    """Writes an iLogtail pipeline YAML with one input_file and one flusher; returns its path."""
    lines = ["inputs:", "  - Type: input_file"]
    lines.append("    FilePaths: [" + ", ".join(_yaml_str(p) for p in file_paths) + "]")
    lines.append(f"    MaxDirSearchDepth: {max_depth}")
    lines.append(f"    TailingAllMatchedFiles: {'true' if tail_all else 'false'}")
    if tail_size_kb is not None:
        lines.append(f"    TailSizeKB: {tail_size_kb}")
    lines.append("flushers:")
    if flusher == "file":
        lines.append("  - Type: flusher_file")
        lines.append(f"    FilePath: {_yaml_str(out)}")
    elif flusher == "stdout":
        lines.append("  - Type: flusher_stdout")
    elif flusher == "blackhole":
        lines.append("  - Type: flusher_blackhole")
    else:
        raise ValueError(f"unknown flusher {flusher}")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def content_bytes(record):
    """The exact bytes of a record's content (invalid UTF-8 comes back through surrogateescape)."""
    return record["content"].encode("utf-8", "surrogateescape")


class JsonLinesFile:
    """Incrementally reads complete JSON lines from a file another process appends to."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = 0
        self.pending = b""
        self.items = []

    def poll(self):
        """Reads what was appended since the last poll; returns the new complete items."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.pending + data
        *complete, self.pending = data.split(b"\n")
        fresh = []
        for raw in complete:
            if not raw.strip():
                continue
            fresh.append(self.parse(raw))
        self.items.extend(fresh)
        return fresh

    def parse(self, raw):
        # Output must be valid UTF-8 JSON: invalid input bytes are escaped, never copied raw.
        return json.loads(raw.decode("utf-8"))


class StderrEvents(JsonLinesFile):
    """Tailcar's stderr: one JSON object per line, each with an "event" key; other lines kept raw."""

    def parse(self, raw):
        try:
            value = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return {"event": None, "raw": raw.decode("utf-8", "replace")}
        return value if isinstance(value, dict) else {"event": None, "raw": value}

    def named(self, name):
        self.poll()
        return [e for e in self.items if e.get("event") == name]


class Tailcar:
    """One `tailcar run` process with stdout and stderr captured to files in `logdir`."""

    def __init__(self, binary, logdir, name):
        self.binary = Path(binary)
        self.logdir = Path(logdir)
        self.name = name
        self.proc = None
        self.stdout_path = self.logdir / f"{name}.stdout"
        self.stderr_path = self.logdir / f"{name}.stderr"
        self.events = StderrEvents(self.stderr_path)

    def start(self, config, checkpoint_dir, stop_delay=None, exit_when_drained=None,
              wait_started=True, chroot=None, extra=()):
        args = [str(self.binary), "run", "--config", str(config), "--checkpoint-dir", str(checkpoint_dir), *extra]
        if stop_delay is not None:
            args += ["--stop-delay", str(stop_delay)]
        if exit_when_drained is not None:
            args += ["--exit-when-drained", str(exit_when_drained)]
        if chroot is not None:
            args = ["chroot", str(chroot)] + args
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
        if wait_started:
            self.wait_event("agent_started", START_TIMEOUT)
        return self

    def wait_event(self, name, timeout):
        def seen():
            if self.events.named(name):
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"tailcar exited with {self.proc.returncode} before '{name}'; "
                                     f"stderr:\n{self.stderr_tail()}")
            return False
        wait_until(seen, timeout, f"stderr event '{name}' from {self.name}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Waits for the process to exit; returns its exit code, or fails if it is still running."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise WaitTimeout(f"{self.name} still running {timeout:.1f}s later; "
                              f"stderr:\n{self.stderr_tail()}") from None

    def terminate(self, timeout):
        """SIGTERM, then waits; returns (exit code, seconds it took)."""
        began = time.monotonic()
        self.signal(signal.SIGTERM)
        code = self.wait_exit(timeout)
        return code, time.monotonic() - began

    def kill(self):
        """SIGKILL and reap; used by tests and by every fixture finalizer."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def stderr_tail(self, limit=4000):
        try:
            return self.stderr_path.read_bytes()[-limit:].decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no stderr)"


class Records:
    """Records written by one or more flusher_file outputs (one file per tailcar incarnation)."""

    def __init__(self, *paths):
        self.files = [JsonLinesFile(p) for p in paths]
        self.records = []
        self.bytes = []

    def add(self, path):
        self.files.append(JsonLinesFile(path))

    def poll(self):
        for f in self.files:
            for record in f.poll():
                self.records.append(record)
                self.bytes.append(content_bytes(record))
        return self.records

    def all(self):
        self.poll()
        return self.records

    def contents(self, path=None):
        """Content bytes of every record so far, optionally only those whose __path__ is `path`."""
        self.poll()
        if path is None:
            return list(self.bytes)
        return [b for r, b in zip(self.records, self.bytes) if r.get("__path__") == str(path)]

    def wait_for_contents(self, expected, timeout=DELIVERY_TIMEOUT, path=None):
        """Waits until every byte string in `expected` has been delivered at least once."""
        wanted = set(expected)
        def done():
            return wanted.issubset(set(self.contents(path)))
        try:
            wait_until(done, timeout, f"{len(wanted)} expected records")
        except WaitTimeout:
            missing = sorted(wanted - set(self.contents(path)))
            raise WaitTimeout(f"{len(missing)} of {len(wanted)} records not delivered within "
                              f"{timeout:.0f}s, e.g. {missing[:3]!r}") from None

    def wait_for_count(self, count, timeout=DELIVERY_TIMEOUT, path=None):
        wait_until(lambda: len(self.contents(path)) >= count, timeout, f"{count} records")
        return self.contents(path)


def append(path, data):
    """Appends bytes to a file in one write and closes it."""
    with open(path, "ab") as f:
        f.write(data)
