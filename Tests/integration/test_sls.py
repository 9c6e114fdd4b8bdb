"""flusher_sls end to end: the real binary tails files and sends to the test SLS receiver, which decodes
with the official Python SDK and checks every signature. Lines carry sequence numbers so loss and
duplication are counted, through rotation, faults, outages, SIGKILL and credential changes."""

import os
import signal
import subprocess
import time

import pytest

from sls_support import (CREDENTIALS, KEY_ID, SECRET, PYTHON, Receiver, RSSSampler, make_test_ca, numbered,
                         sequence_numbers, sls_yaml, wait_for_sequence)
from tailcar_harness import BINARY, wait_until

pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="test venv missing (bash scripts/venv.sh)")


@pytest.fixture
def receivers(workdir):
    started = []

    def start(*extra):
        receiver = Receiver(workdir, *extra)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def sls_env(**extra):
    """The test's environment with the receiver's credentials (tailcar gets exactly this environment)."""
    return {**os.environ, **CREDENTIALS, **extra}


def append(path, text):
    with open(path, "a") as handle:
        handle.write(text)


@pytest.mark.parametrize("compression", ["lz4", "zstd", "none"])
def test_every_line_arrives_once_through_rotation(workdir, tailcars, receivers, compression):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, sls_yaml(workdir / "logs" / "app.log*", receiver, compression),
                       env=sls_env()).started()
    append(log, numbered(0, 3000))
    wait_for_sequence(receiver, range(0, 3000))
    log.rename(workdir / "logs" / "app.log.1")
    append(workdir / "logs" / "app.log.1", numbered(3000, 500))
    append(log, numbered(3500, 3000))
    seen = wait_for_sequence(receiver, range(0, 6500))
    assert tailcar.stop() == 0
    assert len(seen) == len(set(seen)) == 6500, "a line arrived twice"
    groups = receiver.groups()
    assert {g["compress"] for g in groups} == {"" if compression == "none" else compression}
    assert all(g["host"] == f"proj.127.0.0.1:{receiver.port}" for g in groups)
    assert all(len(g["logs"]) <= 4000 for g in groups)
    paths = {dict(g["tags"])["__path__"] for g in groups}
    assert paths <= {str(log), str(workdir / "logs" / "app.log.1")}
    assert all(g["topic"] == "" and g["source"] for g in groups)


@pytest.mark.parametrize("compression,setting,threads", [("lz4", "LZ4Acceleration: 8", "0"),
                                                        ("zstd", "ZstdLevel: 9", "2"),
                                                        ("zstd", "ZstdLevel: -3", "4")])
def test_compression_settings_and_sealing_threads(workdir, tailcars, receivers, compression, setting, threads):
    """Each codec setting still round-trips through the official SDK, sealed on the loop (0) or on threads,
    and every line arrives once (send order with threads is checked in SealingOrderTests: here four requests
    run at once, so arrival order is the network's)."""
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    config = sls_yaml(log, receiver, compression) + f"    {setting}\n"
    tailcar = tailcars(workdir, config, "--sealing-threads", threads, env=sls_env()).started()
    expected = ("the loop thread" if threads == "0"
                else f"{threads} threads while the loop is busy, on the loop thread otherwise")
    notes = [e["message"] for e in tailcar.events_named("config_note")]
    assert f"SLS batches are sealed on {expected} (--sealing-threads)" in notes
    for part in range(5):
        append(log, numbered(part * 2000, 2000))
    seen = wait_for_sequence(receiver, range(0, 10000))
    assert tailcar.stop() == 0
    assert sorted(seen) == list(range(0, 10000)), "a line arrived twice"
    assert {g["compress"] for g in receiver.groups()} == {compression}


@pytest.mark.parametrize("setting,message", [("ZstdLevel: 40", "ZstdLevel: expected a whole number from -7 to 19"),
                                             ("LZ4Acceleration: 0", "LZ4Acceleration: expected a whole number from 1 to 64")])
def test_compression_settings_out_of_range_are_config_errors(workdir, tailcars, receivers, setting, message):
    receiver = receivers()
    config = sls_yaml(workdir / "logs" / "app.log", receiver, "zstd") + f"    {setting}\n"
    (workdir / "pipeline.yaml").write_text(config)
    result = subprocess.run([str(BINARY), "check-config", str(workdir / "pipeline.yaml")], capture_output=True,
                            text=True, timeout=30, env=sls_env())
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_requests_share_keep_alive_connections(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    tailcars(workdir, sls_yaml(log, receiver), env=sls_env()).started()
    for batch in range(8):
        append(log, numbered(batch * 100, 100))
        wait_for_sequence(receiver, range(0, batch * 100 + 100))
    groups = receiver.groups()
    assert len(groups) >= 8
    assert len({g["peer"] for g in groups}) <= 4, "each request opened a connection of its own"


@pytest.mark.parametrize("fault", ["500", "429", "garbage", "reset", "slow"])
def test_faults_are_retried_until_delivered(workdir, tailcars, receivers, fault):
    receiver = receivers("--fault", fault)
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, sls_yaml(log, receiver), env=sls_env()).started()
    append(log, numbered(0, 2000))
    if fault != "slow":
        tailcar.wait_event("send_failed", timeout=20, count=2)
        failure = tailcar.events_named("send_failed")[0]
        assert failure["flusher"] == "flusher_sls proj/store"
        expected = {"500": ["InternalServerError"], "429": ["WriteQuotaExceed"], "garbage": ["malformed response"],
                    "reset": ["ECONNRESET", "EPIPE", "closed the connection"]}[fault]
        assert any(text in failure["error"] for text in expected), failure
        assert sequence_numbers(receiver) == []
        receiver.control("none")
    seen = wait_for_sequence(receiver, range(0, 2000), timeout=60)
    if fault != "slow":
        tailcar.wait_event("send_recovered", timeout=10)
    assert set(seen) == set(range(0, 2000))
    assert tailcar.stop() == 0


def checkpointed_offsets(tailcar):
    """The offsets in the checkpoint file (tab-separated, the sixth column; see CheckpointStore.swift)."""
    try:
        lines = (tailcar.checkpoints / "checkpoints.v1").read_text().splitlines()[1:]
    except FileNotFoundError:
        return []
    return [int(line.split("\t")[5]) for line in lines]


def test_an_acknowledgement_reaches_the_checkpoint_file_long_before_the_next_poll_tick(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, sls_yaml(log, receiver), "--poll-interval", "30", env=sls_env()).started()
    append(log, numbered(0, 100))
    wait_for_sequence(receiver, range(0, 100))
    size = log.stat().st_size
    # The poll tick (30 s here) is only a fallback: the save follows the acknowledgement within 200 ms.
    wait_until(lambda: checkpointed_offsets(tailcar) == [size], timeout=5, what="the acknowledged offset on disk")
    assert tailcar.stop() == 0


def test_sigkill_mid_flight_then_restart_loses_nothing(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    config = sls_yaml(log, receiver)
    first = tailcars(workdir, config, env=sls_env()).started()
    append(log, numbered(0, 5000))
    wait_for_sequence(receiver, range(0, 5000))
    # The acknowledgement reaches the checkpoint file within Agent.checkpointSpacingMilliseconds; a kill
    # before that would send those lines again, which is the crash window, not what this test is about.
    acknowledged = log.stat().st_size
    wait_until(lambda: checkpointed_offsets(first) == [acknowledged], timeout=10, what="checkpoint of 5000 lines")
    receiver.control("500")  # what is read from now on is in flight, never acknowledged
    append(log, numbered(5000, 5000))
    first.wait_event("send_failed", timeout=20)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    receiver.control("none")
    append(log, numbered(10000, 1000))
    second = tailcars(workdir, config, env=sls_env()).started()
    seen = wait_for_sequence(receiver, range(0, 11000))
    assert second.stop() == 0
    assert set(seen) == set(range(0, 11000))
    # Restart resumes at the last acknowledged offset: the first 5000 lines are not sent again.
    assert len([s for s in seen if s < 5000]) == 5000


def test_outage_keeps_memory_bounded_and_delivers_everything_after(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, sls_yaml(log, receiver), "--max-in-flight-mb", "4", env=sls_env()).started()
    append(log, numbered(0, 1000))
    wait_for_sequence(receiver, range(0, 1000))
    sampler = RSSSampler(tailcar.process.pid)
    baseline_kib = wait_until(lambda: sampler.peak_kib, timeout=5, what="an RSS sample")
    receiver.stop()  # a minute of outage: connections refused, 40 MB written meanwhile
    deadline = time.monotonic() + 60
    written = 1000
    while time.monotonic() < deadline:
        append(log, numbered(written, 20000, width=100))
        written += 20000
        if written >= 1000 + 20000 * 20:
            break
        time.sleep(2.5)
    tailcar.wait_event("send_failed", timeout=5)
    peak_during_outage = sampler.peak_kib
    receiver.restart()
    wait_for_sequence(receiver, range(0, written), timeout=180)
    sampler.stop()
    assert tailcar.stop() == 0
    # 4 MiB of records in flight plus their compressed copies; the process itself stays near its baseline.
    print(f"RSS before the outage {baseline_kib} KiB, peak during it {peak_during_outage} KiB")
    assert peak_during_outage - baseline_kib < 12 * 1024, (baseline_kib, peak_during_outage)


def resident_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_a_backlog_holds_far_less_than_the_cap_and_gives_it_back(workdir, tailcars, receivers):
    # The receiver decodes every request with the SDK, far slower than Tailcar reads: flusher_sls stops
    # taking more at a dozen queued batches, and sealed groups' memory is reused, so the default 32 MB cap
    # is never approached; once drained, glibc's free heap goes back to the system.
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, sls_yaml(log, receiver), env=sls_env()).started()
    append(log, numbered(0, 1000))
    wait_for_sequence(receiver, range(0, 1000))
    sampler = RSSSampler(tailcar.process.pid)
    baseline_kib = wait_until(lambda: sampler.peak_kib, timeout=5, what="an RSS sample")
    append(log, numbered(1000, 300000, width=100))  # 30 MB at once
    wait_for_sequence(receiver, range(0, 301000), timeout=240)
    peak_kib = sampler.stop()
    settled = wait_until(lambda: resident_kib(tailcar.process.pid) < baseline_kib + 8 * 1024, timeout=15,
                         what="RSS back near its baseline after the backlog drained")
    assert settled
    assert tailcar.stop() == 0
    print(f"RSS before the backlog {baseline_kib} KiB, peak during it {peak_kib} KiB")
    assert peak_kib - baseline_kib < 20 * 1024, (baseline_kib, peak_kib)


def test_credentials_file_is_reread_when_it_changes(workdir, tailcars, receivers):
    receiver = receivers()
    log = workdir / "logs" / "app.log"
    credentials = workdir / "credentials.json"
    credentials.write_text('{"AccessKeyId": "unknownKey", "AccessKeySecret": "wrongSecretValue"}')
    tailcar = tailcars(workdir, sls_yaml(log, receiver),
                       env={**os.environ, "ALIBABA_CLOUD_CREDENTIALS_FILE": str(credentials)}).started()
    append(log, numbered(0, 100))
    tailcar.wait_event("send_failed", timeout=20)
    failure = tailcar.events_named("send_failed")[0]
    assert "InvalidAccessKeyId" in failure["error"] and "request" in failure["error"]
    assert failure["retry_in_ms"] >= 5000  # a person must act: retried slowly
    rotated = workdir / "credentials.new"
    rotated.write_text(f'{{"Credentials": {{"AccessKeyId": "{KEY_ID}", "AccessKeySecret": "{SECRET}", '
                       f'"SecurityToken": "sts-token-1"}}}}')
    os.replace(rotated, credentials)
    wait_for_sequence(receiver, range(0, 100), timeout=90)
    assert {g["token"] for g in receiver.groups()} == {"sts-token-1"}
    assert tailcar.stop() == 0
    everything = "".join(str(e) for e in tailcar.events)
    assert "wrongSecretValue" not in everything and SECRET not in everything and "sts-token-1" not in everything


def test_missing_credentials_is_a_clear_error(workdir, tailcars, receivers):
    receiver = receivers()
    env = {**os.environ, **{name: "" for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                                  "ALIBABA_CLOUD_CREDENTIALS_FILE")}}
    tailcar = tailcars(workdir, sls_yaml(workdir / "logs" / "a.log", receiver), env=env)
    assert tailcar.process.wait(timeout=20) == 1
    tailcar.stop()
    message = "".join(e.get("line", "") for e in tailcar.events)
    assert "flusher_sls needs an AccessKey" in message and "ALIBABA_CLOUD_ACCESS_KEY_ID" in message


def test_https_with_a_test_ca(workdir, tailcars, receivers):
    ca, cert, key = make_test_ca(workdir)
    receiver = receivers("--tls-cert", str(cert), "--tls-key", str(key))
    log = workdir / "logs" / "app.log"
    trusted = tailcars(workdir, sls_yaml(log, receiver), env=sls_env(SSL_CERT_FILE=str(ca))).started()
    append(log, numbered(0, 500))
    wait_for_sequence(receiver, range(0, 500))
    assert trusted.stop() == 0


def test_https_refuses_an_untrusted_server(workdir, tailcars, receivers):
    _, cert, key = make_test_ca(workdir)
    receiver = receivers("--tls-cert", str(cert), "--tls-key", str(key))
    log = workdir / "logs" / "app.log"
    system_ca = "/etc/ssl/certs/ca-certificates.crt"
    env = sls_env(SSL_CERT_FILE=system_ca if os.path.exists(system_ca) else str(workdir / "none.pem"))
    tailcar = tailcars(workdir, sls_yaml(log, receiver), env=env).started()
    append(log, numbered(0, 10))
    tailcar.wait_event("send_failed", timeout=20)
    assert "certificate" in tailcar.events_named("send_failed")[0]["error"]
    assert sequence_numbers(receiver) == []
    tailcar.kill()


def test_reload_while_batches_wait_for_retry_loses_nothing(workdir, tailcars, receivers):
    """A ConfigMap swap changes a flusher_sls pipeline (another logstore) while its batches are failing:
    the old pipeline delivers or hands back what it read, the new one continues at the acknowledged
    offsets; every line arrives."""
    from test_reload import publish

    receiver = receivers()
    conf = workdir / "conf"
    conf.mkdir()
    log = workdir / "logs" / "app.log"
    publish(conf, {"a.yaml": sls_yaml(log, receiver, logstore="one")})
    tailcar = tailcars(workdir, "", argv=["run", "--config", str(conf), "--checkpoint-dir", str(workdir / "state"),
                                          "--poll-interval", "0.1", "--http-port", "0", "--stop-delay", "3"],
                       env=sls_env()).started()
    append(log, numbered(0, 1000))
    wait_for_sequence(receiver, range(0, 1000))
    receiver.control("500")
    append(log, numbered(1000, 1000))
    tailcar.wait_event("send_failed", timeout=20)
    publish(conf, {"a.yaml": sls_yaml(log, receiver, logstore="two")})
    tailcar.wait_event("config_reloaded", timeout=20)
    receiver.control("none")
    append(log, numbered(2000, 1000))
    seen = wait_for_sequence(receiver, range(0, 3000), timeout=60)
    assert tailcar.stop() == 0
    assert set(seen) == set(range(0, 3000))
    later = {g["logstore"] for g in receiver.groups() for log_ in g["logs"]
             if int(dict(log_["contents"])["content"][4:12]) >= 2000}
    assert later == {"two"}
