"""flusher_otlp end to end: the real binary tails files and sends OTLP/HTTP logs to the test receiver
(Tests/harness/otlp_receiver.py), which decodes with the official opentelemetry-proto classes and checks
every field. Lines carry sequence numbers so loss and duplication are counted, through rotation, faults
(5xx, 429 with Retry-After, resets, garbage, 400, 401), partial success and SIGKILL."""

import json
import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from email.utils import formatdate
from pathlib import Path

import pytest

from sls_support import PYTHON, RSSSampler, make_test_ca, numbered
from tailcar_harness import BINARY, REPO, wait_until

RECEIVER = REPO / "Tests" / "harness" / "otlp_receiver.py"

pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="test venv missing (bash scripts/venv.sh)")


class OTLPReceiver:
    """One receiver process; `restart()` brings it back on the same port after `stop()`."""

    def __init__(self, workdir, *extra):
        self.records = Path(workdir) / "otlp.jsonl"
        self.extra = list(extra)
        self.port = 0
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen([str(PYTHON), str(RECEIVER), "--port", str(self.port), "--records",
                                         str(self.records), *self.extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.process.stdout.readline().decode()
        assert line.startswith("PORT "), f"receiver did not start: {line!r} {self.process.stderr.read()!r}"
        self.port = int(line.split()[1])

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def restart(self):
        self.stop()
        wait_until(lambda: self._try_start(), timeout=10, interval=0.2, what="the receiver back on its port")

    def _try_start(self):
        try:
            self.start()
            return True
        except AssertionError:
            return False

    @property
    def scheme(self):
        return "https" if "--tls-cert" in self.extra else "http"

    def control(self, fault, **params):
        query = "&".join([f"fault={fault}"] + [f"{k}={urllib.parse.quote(str(v))}" for k, v in params.items()])
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_control?{query}", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as answer:
            return json.loads(answer.read())

    def logs(self):
        if not self.records.exists():
            return []
        with open(self.records) as handle:
            return [json.loads(line) for line in handle if line.endswith("\n")]

    def sequence_numbers(self):
        return [int(log["body"][4:12]) for log in self.logs()
                if isinstance(log.get("body"), str) and log["body"].startswith("seq=")]

    def wait_for(self, expected, timeout=60.0):
        wanted = set(expected)
        try:
            return wait_until(lambda: (seen := self.sequence_numbers()) and wanted <= set(seen) and seen,
                              timeout=timeout, interval=0.2, what="every line at the OTLP receiver")
        except AssertionError:
            missing = sorted(wanted - set(self.sequence_numbers()))
            raise AssertionError(f"{len(missing)} lines never arrived, first {missing[:5]}") from None


@pytest.fixture
def receivers(workdir):
    started = []

    def start(*extra):
        receiver = OTLPReceiver(workdir, *extra)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
    for receiver in started:
        assert receiver.process.returncode is not None


def otlp_yaml(pattern, receiver, extra_flusher="", processors=""):
    return (
        "inputs:\n"
        "  - Type: input_file\n"
        f"    FilePaths: [{json.dumps(str(pattern))}]\n"
        "    TailingAllMatchedFiles: true\n"
        f"{processors}"
        "flushers:\n"
        "  - Type: flusher_otlp\n"
        f"    Endpoint: {receiver.scheme}://127.0.0.1:{receiver.port}\n"
        f"{extra_flusher}"
    )


def append(path, text, mode="a"):
    with open(path, mode) as handle:
        handle.write(text)


def env(**extra):
    return {**os.environ, "ALIYUN_LOG_ENV_TAGS": "_pod_name_|_namespace_|_node_name_", "_pod_name_": "web-1",
            "_namespace_": "shop", "_node_name_": "node-7", **extra}


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_every_line_arrives_once_through_rotation_with_every_field(workdir, tailcars, receivers, compression):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    config = otlp_yaml(workdir / "logs" / "app.log*", receiver,
                       f"    Compression: {compression}\n    Headers:\n      X-Scope-OrgID: tenant-a\n")
    before = time.time_ns()
    tailcar = tailcars(workdir, config, env=env()).started()
    append(log, numbered(0, 3000))
    receiver.wait_for(range(0, 3000))
    log.rename(workdir / "logs" / "app.log.1")
    append(workdir / "logs" / "app.log.1", numbered(3000, 500))
    append(log, numbered(3500, 3000))
    seen = receiver.wait_for(range(0, 6500))
    assert tailcar.stop() == 0
    after = time.time_ns()
    assert len(seen) == len(set(seen)) == 6500, "a line arrived twice"
    assert receiver.get("/_violations") == []
    logs = receiver.logs()
    for entry in logs:
        assert entry["gzip"] == (compression == "gzip")
        assert entry["headers"]["x-scope-orgid"] == "tenant-a"
        assert entry["headers"]["content-type"] == "application/x-protobuf"
        assert entry["scope"] == ["tailcar", "1"]
        assert entry["attributes"] == {}, "a simple line has no field besides its content"
        resource = entry["resource"]
        assert resource["log.file.path"] in {str(log), str(workdir / "logs" / "app.log.1")}
        assert resource["k8s.pod.name"] == "web-1"
        assert resource["k8s.namespace.name"] == "shop"
        assert resource["k8s.node.name"] == "node-7"
        assert resource["host.name"]
        assert before <= entry["time"] <= after and before <= entry["observed"] <= after
        assert entry["observed"] >= entry["time"]
    assert {int(e["body"][4:12]) for e in logs if e["resource"]["log.file.path"].endswith(".1")} >= set(range(3000, 3500))


def test_parsed_fields_become_attributes_and_times_come_from_the_record(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    processors = ("processors:\n"
                  "  - Type: processor_parse_regex_native\n"
                  "    SourceKey: content\n"
                  r"    Regex: '(\S+) (\S+) (.*)'" "\n"
                  "    Keys: [when, level, message]\n"
                  "  - Type: processor_parse_timestamp_native\n"
                  "    SourceKey: when\n"
                  "    SourceFormat: '%Y-%m-%dT%H:%M:%S'\n"
                  "    SourceTimezone: 'GMT+00:00'\n")
    tailcar = tailcars(workdir, otlp_yaml(log, receiver, "    BodyKey: message\n", processors), env=env()).started()
    append(log, "2024-05-06T07:08:09 WARN disk almost full\n")
    with open(log, "ab") as handle:
        handle.write(b"2024-05-06T07:08:10 INFO bad \xff\xfe bytes\n")
    logs = wait_until(lambda: len(receiver.logs()) >= 2 and receiver.logs(), timeout=20, what="two records")
    assert tailcar.stop() == 0
    first, second = logs
    assert first["body"] == "disk almost full"
    assert first["attributes"] == {"when": "2024-05-06T07:08:09", "level": "WARN"}
    assert first["time"] == 1714979289 * 10**9
    assert second["body"] == {"bytes": b"bad \xff\xfe bytes".hex()}, "invalid UTF-8 goes as bytes, unaltered"
    assert second["time"] == 1714979290 * 10**9
    assert receiver.get("/_violations") == []


@pytest.mark.parametrize("fault", ["500", "503", "reset", "garbage"])
def test_faults_are_retried_until_delivered(workdir, tailcars, receivers, fault):
    receiver = receivers("--fault", fault)
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), env=env()).started()
    append(log, numbered(0, 2000))
    tailcar.wait_event("send_failed", timeout=20, count=2)
    failure = tailcar.events_named("send_failed")[0]
    assert failure["flusher"] == f"flusher_otlp http://127.0.0.1:{receiver.port}/v1/logs"
    if fault in ("500", "503"):  # the status, and the google.rpc.Status message from the body
        assert f"HTTP {fault}" in failure["error"] and f"injected fault {fault}" in failure["error"], failure
    else:
        expected = {"garbage": ["malformed response"], "reset": ["ECONNRESET", "EPIPE", "closed the connection"]}[fault]
        assert any(text in failure["error"] for text in expected), failure
    assert receiver.sequence_numbers() == []
    receiver.control("none")
    seen = receiver.wait_for(range(0, 2000))
    tailcar.wait_event("send_recovered", timeout=10)
    assert sorted(seen) == list(range(0, 2000))
    assert tailcar.stop() == 0


def test_429_waits_at_least_retry_after(workdir, tailcars, receivers):
    receiver = receivers()
    receiver.control("429", retry_after=3)
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), env=env()).started()
    append(log, numbered(0, 100))
    tailcar.wait_event("send_failed", timeout=20)
    failure = tailcar.events_named("send_failed")[0]
    assert "HTTP 429" in failure["error"] and "injected throttling" in failure["error"]
    assert failure["retry_in_ms"] >= 3000, failure
    failed_at = time.monotonic()
    receiver.control("none")
    receiver.wait_for(range(0, 100), timeout=30)
    assert time.monotonic() - failed_at >= 2.5, "the retry came before Retry-After"
    assert receiver.get("/_stats")["faults"] == 1, "retried before Retry-After"
    assert tailcar.stop() == 0


def test_429_waits_until_a_retry_after_date(workdir, tailcars, receivers):
    receiver = receivers()
    # An HTTP-date (IMF-fixdate) 4 s ahead, whole seconds: the wait is more than 3 s and at most 4 s.
    receiver.control("429", retry_after=formatdate(time.time() + 4, usegmt=True))
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), env=env()).started()
    append(log, numbered(0, 100))
    tailcar.wait_event("send_failed", timeout=20)
    failed_at = time.monotonic()
    failure = tailcar.events_named("send_failed")[0]
    assert "HTTP 429" in failure["error"] and 2000 <= failure["retry_in_ms"] <= 4000, failure
    receiver.control("none")
    receiver.wait_for(range(0, 100), timeout=30)
    assert time.monotonic() - failed_at >= 1.5, "the retry came before the Retry-After date"
    assert receiver.get("/_stats")["faults"] == 1, "retried before the Retry-After date"
    assert tailcar.stop() == 0


def test_a_retry_after_date_a_day_ahead_waits_at_most_five_minutes(workdir, tailcars, receivers):
    receiver = receivers()
    receiver.control("429", retry_after=formatdate(time.time() + 86_400, usegmt=True))
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), env=env()).started()
    append(log, numbered(0, 10))
    tailcar.wait_event("send_failed", timeout=20)
    assert tailcar.events_named("send_failed")[0]["retry_in_ms"] == 300_000
    assert tailcar.stop() == 0


def test_partial_success_is_counted_and_not_retried(workdir, tailcars, receivers):
    receiver = receivers()
    receiver.control("partial", reject=3)
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), env=env()).started()
    append(log, numbered(0, 10))
    tailcar.wait_event("send_rejected", timeout=20)
    rejected = tailcar.events_named("send_rejected")[0]
    assert rejected["records_dropped"] == 3
    assert "partial success" in rejected["error"] and "injected partial success" in rejected["error"]
    wait_until(lambda: len(receiver.sequence_numbers()) == 7, timeout=10, what="the seven kept records")
    receiver.control("none")
    append(log, numbered(10, 5))
    receiver.wait_for(range(10, 15))
    assert sorted(receiver.sequence_numbers()) == list(range(0, 7)) + list(range(10, 15)), "a rejected record was retried"
    assert receiver.get("/_stats")["requests"] == 2
    assert tailcar.stop() == 0


def test_bad_request_is_dropped_and_counted(workdir, tailcars, receivers):
    receiver = receivers("--fault", "badrequest")
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), env=env()).started()
    append(log, numbered(0, 20))
    tailcar.wait_event("send_rejected", timeout=20)
    event = tailcar.events_named("send_rejected")[0]
    assert event["records_dropped"] == 20 and "HTTP 400" in event["error"] and "injected bad request" in event["error"]
    receiver.control("none")
    append(log, numbered(20, 5))
    receiver.wait_for(range(20, 25))
    assert receiver.sequence_numbers() == list(range(20, 25))
    assert tailcar.stop() == 0


def test_unauthorized_is_retried_slowly_and_the_token_never_logged(workdir, tailcars, receivers):
    receiver = receivers("--fault", "auth", "--require-header", "Authorization:Bearer right-token")
    log = workdir / "logs" / "app.log"
    config = otlp_yaml(log, receiver, "    Headers:\n      Authorization: Bearer wrong-token\n")
    tailcar = tailcars(workdir, config, env=env()).started()
    append(log, numbered(0, 5))
    tailcar.wait_event("send_failed", timeout=20)
    failure = tailcar.events_named("send_failed")[0]
    assert "HTTP 401" in failure["error"] and failure["retry_in_ms"] >= 10_000
    assert tailcar.stop() == 0
    assert all("wrong-token" not in json.dumps(event) for event in tailcar.events)
    assert receiver.sequence_numbers() == []
    # The same lines go out once the token is right: nothing was acknowledged while refused.
    config = otlp_yaml(log, receiver, "    Headers:\n      Authorization: Bearer right-token\n")
    tailcars(workdir, config, env=env()).started()
    receiver.wait_for(range(0, 5))
    assert sorted(receiver.sequence_numbers()) == list(range(0, 5))


def test_sigkill_mid_flight_then_restart_loses_nothing(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    config = otlp_yaml(log, receiver)
    tailcar = tailcars(workdir, config, env=env()).started()
    append(log, numbered(0, 2000))
    receiver.wait_for(range(0, 2000))
    receiver.control("503")
    append(log, numbered(2000, 2000))
    tailcar.wait_event("send_failed", timeout=20)
    tailcar.process.send_signal(signal.SIGKILL)
    tailcar.process.wait(timeout=10)
    receiver.control("none")
    restarted = tailcars(workdir, config, env=env()).started()
    seen = receiver.wait_for(range(0, 4000))
    assert set(seen) == set(range(0, 4000))
    assert len([n for n in seen if n < 2000]) == 2000, "delivered lines were sent again after the restart"
    assert restarted.stop() == 0


def test_check_config_names_bad_fields(workdir):
    config = workdir / "bad.yaml"
    config.write_text("inputs:\n  - Type: input_file\n    FilePaths: [/tmp/x.log]\n"
                      "flushers:\n  - Type: flusher_otlp\n    Endpoint: ftp://collector:4318\n"
                      "    Compression: brotli\n    Headers:\n      Content-Length: '5'\n      X-Token: \"a\\nb\"\n")
    result = subprocess.run([str(BINARY), "check-config", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "flushers[0].Endpoint" in result.stderr and "ftp" in result.stderr
    assert "flushers[0].Compression" in result.stderr and "brotli" in result.stderr
    assert "flushers[0].Headers.Content-Length" in result.stderr
    assert "flushers[0].Headers.X-Token" in result.stderr and "a\\nb" not in result.stderr
    good = workdir / "good.yaml"
    good.write_text("inputs:\n  - Type: input_file\n    FilePaths: [/tmp/x.log]\n"
                    "flushers:\n  - Type: flusher_otlp\n    Endpoint: http://127.0.0.1:4318\n"
                    "    Headers:\n      Authorization: Bearer secret-token\n")
    result = subprocess.run([str(BINARY), "check-config", str(good)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "flusher_otlp http://127.0.0.1:4318/v1/logs, gzip, body content, headers Authorization" in output
    assert "secret-token" not in output


def test_outage_keeps_memory_bounded_and_delivers_everything_after(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, otlp_yaml(log, receiver), "--max-in-flight-mb", "4", env=env()).started()
    append(log, numbered(0, 1000))
    receiver.wait_for(range(0, 1000))
    sampler = RSSSampler(tailcar.process.pid)
    baseline_kib = wait_until(lambda: sampler.peak_kib, timeout=5, what="an RSS sample")
    receiver.stop()  # an outage: connections refused while 40 MB are written
    written = 1000
    for _ in range(20):
        append(log, numbered(written, 20000, width=100))
        written += 20000
        time.sleep(0.5)
    tailcar.wait_event("send_failed", timeout=10)
    peak_during_outage = sampler.peak_kib
    receiver.restart()
    seen = receiver.wait_for(range(0, written), timeout=180)
    sampler.stop()
    assert tailcar.stop() == 0
    assert len(seen) == len(set(seen)) == written
    print(f"RSS before the outage {baseline_kib} KiB, peak during it {peak_during_outage} KiB")
    assert peak_during_outage - baseline_kib < 12 * 1024, (baseline_kib, peak_during_outage)


def test_https_with_a_test_ca_and_refusing_an_untrusted_server(workdir, tailcars, receivers):
    ca, cert, key = make_test_ca(workdir)
    receiver = receivers("--tls-cert", str(cert), "--tls-key", str(key))
    log = workdir / "logs" / "app.log"
    system_ca = "/etc/ssl/certs/ca-certificates.crt"
    untrusted_env = env(SSL_CERT_FILE=system_ca if os.path.exists(system_ca) else str(workdir / "none.pem"))
    untrusted = tailcars(workdir, otlp_yaml(log, receiver), env=untrusted_env).started()
    append(log, numbered(0, 300))
    untrusted.wait_event("send_failed", timeout=20)
    assert "certificate" in untrusted.events_named("send_failed")[0]["error"]
    assert receiver.sequence_numbers() == []
    untrusted.kill()
    trusted = tailcars(workdir, otlp_yaml(log, receiver), env=env(SSL_CERT_FILE=str(ca))).started()
    assert sorted(receiver.wait_for(range(0, 300))) == list(range(0, 300))
    assert trusted.stop() == 0
