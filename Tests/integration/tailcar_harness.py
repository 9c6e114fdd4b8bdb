"""Helpers for driving the real tailcar binary: a process wrapper that reads the JSON events tailcar
writes on stderr, output readers, and waits on conditions with deadlines (never bare sleeps to order
events)."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("TAILCAR_BIN", REPO / ".build" / "debug" / "tailcar"))


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_records(path):
    """Records of a flusher_file output, with content decoded back to bytes (surrogateescape)."""
    if not Path(path).exists():
        return []
    records = []
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break  # a line being written right now
            records.append(json.loads(line))
    return records


def content_bytes(record):
    return record["content"].encode("utf-8", "surrogateescape")


def pipeline_yaml(patterns, output, depth=0, tailing_all=False, tail_size_kb=None, extra_input=""):
    paths = ", ".join(json.dumps(str(p)) for p in patterns)
    text = (
        "inputs:\n"
        "  - Type: input_file\n"
        f"    FilePaths: [{paths}]\n"
        f"    MaxDirSearchDepth: {depth}\n"
        f"    TailingAllMatchedFiles: {'true' if tailing_all else 'false'}\n"
    )
    if tail_size_kb is not None:
        text += f"    TailSizeKB: {tail_size_kb}\n"
    text += extra_input
    if output == "stdout":
        text += "flushers:\n  - Type: flusher_stdout\n"
    else:
        text += f"flushers:\n  - Type: flusher_file\n    FilePath: {json.dumps(str(output))}\n"
    return text


class Tailcar:
    """One running `tailcar run`, its stderr events collected by a reader thread."""

    def __init__(self, workdir, config_text, *extra, env=None, argv=None):
        """`argv`, when given, replaces the whole command line (`config_text` is then not written)."""
        self.workdir = Path(workdir)
        self.config = self.workdir / "pipeline.yaml"
        if argv is None:
            self.config.write_text(config_text)
        self.checkpoints = self.workdir / "checkpoints"
        self.events = []
        self.stdout_lines = []
        self._lock = threading.Lock()
        if argv is None:
            argv = ["run", "--config", str(self.config), "--checkpoint-dir", str(self.checkpoints),
                    "--poll-interval", "0.1", *extra]
        self.process = subprocess.Popen([str(BINARY), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env)
        self._threads = [threading.Thread(target=self._read_stderr, daemon=True),
                         threading.Thread(target=self._read_stdout, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _read_stderr(self):
        for line in self.process.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "unparsed", "line": line.decode("utf-8", "replace")}
            with self._lock:
                self.events.append(event)

    def _read_stdout(self):
        for line in self.process.stdout:
            with self._lock:
                self.stdout_lines.append(line)

    def events_named(self, name):
        with self._lock:
            return [e for e in self.events if e.get("event") == name]

    def event_names(self):
        with self._lock:
            return [e.get("event") for e in self.events]

    def wait_event(self, name, timeout=10.0, count=1):
        return wait_until(lambda: self.event_names().count(name) >= count, timeout, what=f"event {name}")

    def started(self):
        self.wait_event("agent_started")
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=5)
        return code

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


