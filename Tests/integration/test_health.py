"""The health and metrics surface of the real binary: `tailcar run --http-port`, GET /healthz,
GET /metrics after collecting a file, `tailcar status` exit codes, and POST /quitquitquit stopping the
agent gracefully with everything delivered.

TAILCAR_BIN names the binary (default .build/debug/tailcar under the repository root). Every process
started here is stopped and every file lives under pytest's tmp_path.
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("TAILCAR_BIN", str(ROOT / ".build" / "debug" / "tailcar"))
DEADLINE = 20.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(directory, log_glob, output):
    """An iLogtail pipeline: every matched file from its start into a JSON-lines file."""
    path = directory / "pipeline.yaml"
    path.write_text(
        "inputs:\n"
        "  - Type: input_file\n"
        f"    FilePaths: [\"{log_glob}\"]\n"
        "    TailingAllMatchedFiles: true\n"
        "flushers:\n"
        "  - Type: flusher_file\n"
        f"    FilePath: {output}\n"
    )
    return path


def http(port, path, method="GET", timeout=3.0):
    """(status, body text); HTTP errors are answers too."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(condition, what, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # polling interval only; the deadline decides, not the sleep
    raise AssertionError(f"timed out waiting for {what}")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


class Agent:
    def __init__(self, tmp_path, port, lines=(), env_port=False, extra=()):
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.log = self.logs / "app.log"
        self.log.write_text("".join(line + "\n" for line in lines))
        self.output = tmp_path / "out.jsonl"
        self.port = port
        config = write_config(tmp_path, str(self.logs / "*.log"), self.output)
        command = [BIN, "run", "--config", str(config), "--checkpoint-dir", str(tmp_path / "checkpoints"),
                   "--stop-delay", "10", *extra]
        env = dict(os.environ)
        if env_port:
            env["TAILCAR_HTTP_PORT"] = str(port)
        else:
            command += ["--http-port", str(port)]
        self.stderr = open(tmp_path / "stderr.log", "wb")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.stderr, env=env)

    def healthy(self):
        assert self.process.poll() is None, f"tailcar exited with {self.process.returncode}"
        try:
            return http(self.port, "/healthz")[0] == 200
        except OSError:
            return False

    def delivered(self):
        if not self.output.exists():
            return []
        return [json.loads(line)["content"] for line in self.output.read_text().splitlines()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


@pytest.fixture
def agent_factory(tmp_path):
    started = []

    def start(**kwargs):
        agent = Agent(tmp_path, free_port(), **kwargs)
        started.append(agent)
        wait_for(agent.healthy, "/healthz 200")
        return agent

    yield start
    for agent in started:
        agent.stop()


def test_healthz_answers_ok_with_phase_and_uptime(agent_factory):
    agent = agent_factory()
    status, body = http(agent.port, "/healthz")
    assert status == 200
    document = json.loads(body)
    assert document["status"] == "ok"
    assert document["phase"] == "running"
    assert document["uptime_seconds"] >= 0


def test_metrics_after_collecting_a_file(agent_factory):
    lines = [f"line {i} \"quoted\"" for i in range(100)]
    agent = agent_factory(lines=lines)
    wait_for(lambda: len(agent.delivered()) == 100, "100 records delivered")
    expected_bytes = sum(len(line) + 1 for line in lines)

    def settled():
        status, text = http(agent.port, "/metrics")
        assert status == 200
        return text if metric(text, "tailcar_records_read_total") == 100 else None

    text = wait_for(settled, "records counted")
    assert metric(text, "tailcar_bytes_read_total") == expected_bytes
    assert metric(text, "tailcar_records_dropped_total") == 0
    assert metric(text, "tailcar_files_watched") == 1
    assert metric(text, "tailcar_lines_split_total") == 0
    assert metric(text, "tailcar_read_errors_total") == 0
    assert metric(text, "tailcar_flush_failures_total") == 0
    assert metric(text, "tailcar_files_truncated_total") == 0
    assert metric(text, "tailcar_files_rotated_total") == 0
    assert f'path="{agent.log}"}} 0' in text, "file lag is 0 once everything is acknowledged"
    assert "tailcar_in_flight_bytes{pipeline=" in text
    assert "tailcar_pipeline_paused{pipeline=" in text
    assert "# TYPE tailcar_bytes_read_total counter" in text
    assert metric(text, "tailcar_batches_sent_total") == 0, "no remote sink in this pipeline"
    assert metric(text, "tailcar_send_failures_total") == 0


def test_unknown_paths_and_garbage(agent_factory):
    agent = agent_factory()
    assert http(agent.port, "/nope")[0] == 404
    assert http(agent.port, "/quitquitquit")[0] == 405
    with socket.create_connection(("127.0.0.1", agent.port), timeout=5) as s:
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert agent.healthy()


def test_status_exit_codes(agent_factory):
    agent = agent_factory()
    running = subprocess.run([BIN, "status", "--port", str(agent.port)], capture_output=True, timeout=DEADLINE)
    assert running.returncode == 0, running.stderr
    assert b"healthy" in running.stdout
    from_env = subprocess.run([BIN, "status"], capture_output=True, timeout=DEADLINE,
                              env={**os.environ, "TAILCAR_HTTP_PORT": str(agent.port)})
    assert from_env.returncode == 0, from_env.stderr
    nobody = subprocess.run([BIN, "status", "--port", str(free_port()), "--timeout", "2"],
                            capture_output=True, timeout=DEADLINE)
    assert nobody.returncode == 1
    assert len(nobody.stderr.decode().strip().splitlines()) == 1


def test_status_times_out_on_a_listener_that_never_answers():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run([BIN, "status", "--port", str(port), "--timeout", "0.5"],
                                capture_output=True, timeout=DEADLINE)
        assert result.returncode == 1
        assert b"timeout" in result.stderr
        assert time.monotonic() - started < DEADLINE


def test_http_port_from_the_environment(agent_factory):
    agent = agent_factory(env_port=True)
    assert http(agent.port, "/healthz")[0] == 200


def test_quitquitquit_stops_gracefully_with_everything_delivered(agent_factory):
    agent = agent_factory(lines=[f"before {i}" for i in range(50)])
    wait_for(lambda: len(agent.delivered()) == 50, "first records delivered")
    with open(agent.log, "a") as log:
        for i in range(50):
            log.write(f"after {i}\n")
    status, body = http(agent.port, "/quitquitquit", method="POST")
    assert status == 200
    assert agent.process.wait(timeout=DEADLINE) == 0
    assert agent.delivered() == [f"before {i}" for i in range(50)] + [f"after {i}" for i in range(50)]
    stopped = subprocess.run([BIN, "status", "--port", str(agent.port), "--timeout", "2"],
                             capture_output=True, timeout=DEADLINE)
    assert stopped.returncode == 1


def test_parse_failures_are_counted_per_pipeline(workdir, tailcars):
    """Lines the regex parser cannot parse are counted in tailcar_parse_failures_total (and, with iLogtail's
    default KeepingSourceWhenParseFail false, dropped and counted as dropped)."""
    from tailcar_harness import pipeline_yaml, read_records

    out = workdir / "out.jsonl"
    processors = ("processors:\n  - Type: processor_parse_regex_native\n    SourceKey: content\n"
                  "    Regex: '(\\d+) (\\w+)'\n    Keys: [n, word]\n")
    config = pipeline_yaml([workdir / "logs" / "*.log"], out).replace("flushers:", processors + "flushers:")
    port = free_port()
    tailcars(workdir, config, "--http-port", str(port)).started()
    with open(workdir / "logs" / "a.log", "w") as handle:
        handle.write("".join(f"{i} ok\n" if i % 4 else f"not parsable {i}\n" for i in range(40)))
    wait_for(lambda: len(read_records(out)) == 30, "the 30 parsable records delivered")
    text = wait_for(lambda: (lambda t: t if metric(t, "tailcar_records_read_total") == 40 else None)(
        http(port, "/metrics")[1]), "40 records counted")
    assert f'tailcar_parse_failures_total{{pipeline="pipeline"}} 10' in text, text[-600:]
    assert metric(text, "tailcar_records_dropped_total") == 10


def test_multiline_lines_outside_records_are_dropped_with_discard_and_counted(workdir, tailcars):
    """UnmatchedContentTreatment: discard drops lines outside any record (the start pattern must match the
    whole line, as in iLogtail), and tailcar_multiline_unmatched_lines_total counts them."""
    from tailcar_harness import pipeline_yaml, read_records

    out = workdir / "out.jsonl"
    multiline = ("    Multiline:\n      Mode: custom\n      StartPattern: 'BEGIN \\d+'\n"
                 "      UnmatchedContentTreatment: discard\n")
    config = pipeline_yaml([workdir / "logs" / "*.log"], out, extra_input=multiline)
    port = free_port()
    tailcars(workdir, config, "--http-port", str(port)).started()
    with open(workdir / "logs" / "a.log", "w") as handle:
        handle.write("stray before\nBEGIN 1\n  body\nBEGIN 2 trailing text is no start\nBEGIN 3\n")
    records = wait_for(lambda: read_records(out), "the first record, closed by the next start line")
    assert records[0]["content"] == "BEGIN 1\n  body\nBEGIN 2 trailing text is no start"
    text = http(port, "/metrics")[1]
    assert 'tailcar_multiline_unmatched_lines_total{pipeline="pipeline"} 1' in text, text[-900:]
    assert 'tailcar_multiline_oversized_records_total{pipeline="pipeline"} 0' in text
