"""The vendor agent's settings Tailcar acts on or reports: TZ for times without a zone, enable_full_drain_mode
on SIGTERM, and the one start-up note of settings read and not acted on (VendorAgentSettings)."""

import json
import os
import subprocess

from tailcar_harness import BINARY, pipeline_yaml, read_records, wait_until

TIMESTAMP_PIPELINE = (
    "inputs: [{Type: input_file, FilePaths: [/l/*.log]}]\n"
    "processors:\n"
    "  - Type: processor_parse_timestamp_native\n"
    "    SourceKey: content\n"
    "    SourceFormat: '%Y-%m-%d %H:%M:%S'\n"
    "flushers: [{Type: flusher_stdout}]\n")


def clean_env(**values):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIYUN_", "TAILCAR_", "LOONG_", "TZ"))}
    env.update(values)
    return env


def parsed_time(workdir, env):
    config = workdir / "p.yaml"
    config.write_text(TIMESTAMP_PIPELINE)
    result = subprocess.run([str(BINARY), "parse", "--config", str(config)], input=b"2024-01-01 08:00:00\n",
                            capture_output=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[0])["__time__"]


def test_a_time_without_a_zone_is_read_in_the_zone_tz_names(workdir):
    assert parsed_time(workdir, clean_env(TZ="UTC")) == 1704096000
    assert parsed_time(workdir, clean_env(TZ="Asia/Shanghai")) == 1704067200
    assert parsed_time(workdir, clean_env(TZ="UTC-8")) == 1704067200


def test_full_drain_mode_reads_every_file_to_its_end_after_sigterm_whatever_the_stop_delay(workdir, tailcars):
    out = workdir / "out.jsonl"
    lines = [f"line {i:06d} " + "x" * 200 for i in range(40000)]
    (workdir / "logs" / "big.log").write_text("".join(f"{line}\n" for line in lines))
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out, tailing_all=True),
                  "--stop-delay", "0", "--http-port", "0",
                  env=clean_env(enable_full_drain_mode="true")).started()
    assert tc.stop(timeout=60) == 0
    stopping = tc.events_named("agent_stopping")[0]
    assert stopping["drain"] == "full" and "deadline_seconds" not in stopping
    assert [r["content"] for r in read_records(out)] == lines


def test_settings_read_and_not_acted_on_are_noted_once_at_start(workdir, tailcars):
    region = workdir / "region" / "ilogtail_config.json"
    region.parent.mkdir()
    region.write_text(json.dumps({"data_server_list": [{"cluster": "cn-hangzhou", "endpoint": "cn-hangzhou.log.aliyuncs.com"}],
                                  "mem_usage_limit": 100, "buffer_file_num": 25}))
    env = clean_env(ALIYUN_LOGTAIL_CONFIG=str(region), cpu_usage_limit="2", LOONG_PROCESS_THREAD_COUNT="4",
                    mem_usage_limit="2048")
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], workdir / "out.jsonl"), "--http-port", "0",
                  env=env).started()
    notes = [e["message"] for e in tc.events_named("config_note") if e["message"].startswith("vendor settings:")]
    assert len(notes) == 1
    assert "cpu_usage_limit=2 (env cpu_usage_limit) read, not acted on" in notes[0]
    assert "process_thread_count=4 (env LOONG_PROCESS_THREAD_COUNT) read, not acted on" in notes[0]
    assert f"buffer_file_num ({region}) read, not acted on" in notes[0]
    assert "mem_usage_limit" not in notes[0]
    assert tc.stop() == 0
    wait_until(lambda: tc.process.poll() is not None, what="exit")
