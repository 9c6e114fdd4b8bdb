"""The Logtail sidecar's environment contract: `tailcar run` with no arguments runs from TAILCAR_CONFIG (a
directory of pipelines and AliyunLogConfig resources); resources apply when their machineGroups name
ALIYUN_LOGTAIL_USER_DEFINED_ID; ALIYUN_LOGTAIL_CONFIG gives SLS pipelines their endpoint."""

import json
import os
import subprocess

import pytest

from tailcar_harness import BINARY, content_bytes, pipeline_yaml, read_records, wait_until

ERROR_RESOURCE = """\
apiVersion: log.alibabacloud.com/v1alpha1
kind: AliyunLogConfig
metadata:
  name: {name}
spec:
  project: k8s-nginx-sidecar-demo
  logstore: {logstore}
  machineGroups:
  - {group}
  logtailConfig:
    inputType: file
    configName: {name}
    inputDetail:
      logType: common_reg_log
      logPath: /var/log/nginx
      filePattern: {pattern}
      dockerFile: false
"""


def resource(name, logstore, group, pattern="error.log"):
    return ERROR_RESOURCE.format(name=name, logstore=logstore, group=group, pattern=pattern)


def sidecar_env(**values):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ALIYUN_") and not k.startswith("TAILCAR_")}
    env.update({k: str(v) for k, v in values.items()})
    return env


def check_config(env, *args):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    return subprocess.run([str(BINARY), "check-config", *args], capture_output=True, text=True, timeout=30, env=env)


def write_region_config(path, endpoint="cn-hangzhou-intranet.log.aliyuncs.com"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "config_server_address": "http://logtail.cn-hangzhou-intranet.log.aliyuncs.com",
        "data_server_list": [{"cluster": "cn-hangzhou", "endpoint": endpoint}],
        "cpu_usage_limit": 0.4, "mem_usage_limit": 100, "max_bytes_per_sec": 2097152,
        "process_thread_count": 1, "send_request_concurrency": 15, "streamlog_open": False}))


def test_run_with_no_arguments_runs_from_the_environment_and_skips_other_machine_groups(workdir, tailcars):
    conf = workdir / "conf.d"
    conf.mkdir()
    out = workdir / "out.jsonl"
    (conf / "app.yaml").write_text(pipeline_yaml([workdir / "logs/*.log"], out))
    # Two resources in one file, both for another sidecar: skipped, so no SLS flusher is needed here.
    (conf / "others.yaml").write_text(resource("other-error", "e", "other-group") + "---\n"
                                      + resource("other-access", "a", "other-group", "access.log"))
    (conf / "README.md").write_text("not a pipeline")
    env = sidecar_env(TAILCAR_CONFIG=conf, TAILCAR_CHECKPOINT_DIR=workdir / "checkpoints",
                      TAILCAR_HTTP_PORT=0, ALIYUN_LOGTAIL_USER_DEFINED_ID="nginx-log-sidecar",
                      ALIYUN_LOG_ENV_TAGS="_pod_name_", _pod_name_="web-0")
    tc = tailcars(workdir, None, argv=["run"], env=env).started()
    notes = [e["message"] for e in tc.events if e.get("event") == "config_note"]
    assert any('"other-error"' in n and "skipped" in n for n in notes), notes
    assert any('"other-access"' in n and "skipped" in n for n in notes), notes
    with open(workdir / "logs/app.log", "ab") as handle:
        handle.write(b"from the environment\n")
    wait_until(lambda: read_records(out), what="the line")
    record = read_records(out)[0]
    assert content_bytes(record) == b"from the environment"
    assert record["__tag__:_pod_name_"] == "web-0"
    assert tc.stop() == 0


def test_run_with_no_arguments_and_no_configuration_names_the_default_directory(workdir):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    if os.path.exists("/etc/tailcar/conf.d"):
        pytest.skip("/etc/tailcar/conf.d exists on this machine")
    result = subprocess.run([str(BINARY), "run"], capture_output=True, text=True, timeout=30,
                            env=sidecar_env(TAILCAR_CHECKPOINT_DIR=workdir / "checkpoints"))
    assert result.returncode == 2
    assert "/etc/tailcar/conf.d" in result.stderr


def test_run_exits_2_when_no_resource_is_for_this_sidecar(workdir):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    (workdir / "r.yaml").write_text(resource("other-error", "e", "other-group"))
    result = subprocess.run([str(BINARY), "run", "--config", str(workdir / "r.yaml")], capture_output=True,
                            text=True, timeout=30,
                            env=sidecar_env(TAILCAR_CHECKPOINT_DIR=workdir / "c", ALIYUN_LOGTAIL_USER_DEFINED_ID="me"))
    assert result.returncode == 2
    assert "no pipeline" in result.stderr and '"me"' in result.stderr


def test_check_config_takes_the_endpoint_from_the_region_config_and_keeps_project_and_logstore(workdir):
    region = workdir / "etc/ilogtail/conf/cn-hangzhou/ilogtail_config.json"
    write_region_config(region)
    conf = workdir / "conf.d"
    conf.mkdir()
    (conf / "nginx.yaml").write_text(resource("nginx-log-error-example", "nginx-error", "nginx-log-sidecar")
                                     + "---\n" + resource("not-mine", "x", "someone-else"))
    result = check_config(sidecar_env(TAILCAR_CONFIG=conf, ALIYUN_LOGTAIL_CONFIG=region,
                                      ALIYUN_LOGTAIL_USER_DEFINED_ID="nginx-log-sidecar"))
    assert result.returncode == 0, result.stderr
    assert "pipeline nginx-log-error-example" in result.stdout
    assert ("flusher_sls project k8s-nginx-sidecar-demo logstore nginx-error at "
            "k8s-nginx-sidecar-demo.cn-hangzhou-intranet.log.aliyuncs.com") in result.stdout
    assert "not-mine" not in result.stdout
    assert '"not-mine"' in result.stderr and "skipped" in result.stderr
    assert "data_server_list[0].endpoint" in result.stderr


def test_an_endpoint_in_the_resource_wins_over_the_region_config(workdir):
    region = workdir / "ilogtail_config.json"
    write_region_config(region)
    config = workdir / "plain.json"
    config.write_text(json.dumps({
        "configName": "plain", "inputType": "file",
        "inputDetail": {"logType": "common_reg_log", "logPath": "/var/log/app", "filePattern": "*.log"},
        "outputDetail": {"endpoint": "cn-shanghai.log.aliyuncs.com", "projectName": "p", "logstoreName": "s"}}))
    result = check_config(sidecar_env(ALIYUN_LOGTAIL_CONFIG=region), str(config))
    assert result.returncode == 0, result.stderr
    assert "flusher_sls project p logstore s at p.cn-shanghai.log.aliyuncs.com" in result.stdout


def test_the_vendor_layout_gives_the_endpoint_when_the_region_file_is_absent(workdir):
    (workdir / "r.yaml").write_text(resource("e", "nginx-error", "g"))
    for directory, host in [("cn-hangzhou-internet", "cn-hangzhou.log.aliyuncs.com"),
                            ("ap-southeast-1", "ap-southeast-1-intranet.log.aliyuncs.com")]:
        missing = f"/etc/ilogtail/conf/{directory}/ilogtail_config.json"
        if os.path.exists(missing):
            pytest.skip(f"{missing} exists on this machine")
        result = check_config(sidecar_env(ALIYUN_LOGTAIL_CONFIG=missing), str(workdir / "r.yaml"))
        assert result.returncode == 0, result.stderr
        assert f"at k8s-nginx-sidecar-demo.{host}," in result.stdout
        assert "no such file" in result.stderr


def test_an_unusable_region_config_is_an_error_naming_the_file_and_field(workdir):
    (workdir / "r.yaml").write_text(resource("e", "nginx-error", "g"))
    broken = workdir / "ilogtail_config.json"
    broken.write_text('{"config_server_address": "http://logtail.cn-hangzhou.log.aliyuncs.com"}')
    result = check_config(sidecar_env(ALIYUN_LOGTAIL_CONFIG=broken), str(workdir / "r.yaml"))
    assert result.returncode == 1
    assert str(broken) in result.stderr and "data_server_list" in result.stderr
    result = check_config(sidecar_env(ALIYUN_LOGTAIL_CONFIG=workdir / "nowhere.json"), str(workdir / "r.yaml"))
    assert result.returncode == 1
    assert "nowhere.json" in result.stderr and "does not exist" in result.stderr


def test_without_a_user_defined_id_every_resource_applies_and_a_note_says_so(workdir):
    (workdir / "r.yaml").write_text(resource("e", "nginx-error", "g"))
    result = check_config(sidecar_env(), str(workdir / "r.yaml"))
    assert result.returncode == 0, result.stderr
    assert "pipeline e" in result.stdout
    assert "no endpoint" in result.stdout
    assert "ALIYUN_LOGTAIL_USER_DEFINED_ID is not set" in result.stderr


def test_the_in_flight_cap_and_where_it_came_from_are_said_at_start(workdir, tailcars):
    config = pipeline_yaml([workdir / "logs/*.log"], workdir / "out.jsonl")
    tc = tailcars(workdir, config, "--http-port", "0", env=sidecar_env(mem_usage_limit="400")).started()
    cap = tc.events_named("in_flight_cap")[0]
    assert cap["bytes"] == 50 << 20, cap
    assert "mem_usage_limit" in cap["source"]
    tc.stop()
    tc = tailcars(workdir, config, "--http-port", "0", "--max-in-flight-mb", "7", env=sidecar_env()).started()
    cap = tc.events_named("in_flight_cap")[0]
    assert cap == {**cap, "bytes": 7 << 20, "source": "--max-in-flight-mb 7"}
