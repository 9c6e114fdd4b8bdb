"""`tailcar run` following the SLS console end to end against the test receiver (which checks every
request's signature with the official SDK): discovery across projects and pages of machine groups, a decoy
group whose config must not run, configs edited, added and removed while lines flow, the request count of
a poll, SLS unreachable at start with a cached set, credentials refused, no group holding the id, and
`tailcar bootstrap` followed by a sidecar that has only the environment."""

import subprocess
import threading
import time

import pytest

from sls_console_support import admin, console, control_requests, logtail_config, sidecar_env
from sls_support import PYTHON, Receiver, numbered
from tailcar_harness import BINARY, REPO, wait_until
from test_health import free_port, http

pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="test venv missing (bash scripts/venv.sh)")

FAST = ["run", "--control-interval", "0.2", "--poll-interval", "0.1"]


@pytest.fixture
def receiver(workdir):
    started = Receiver(workdir, "--page-limit", "2")
    yield started
    started.stop()


def seqs_by_store(receiver):
    """{logstore: [seq, ...]} in arrival order, with repeats."""
    found = {}
    for group in receiver.groups():
        for log in group["logs"]:
            for key, value in log["contents"]:
                if key == "content" and value.startswith("seq="):
                    found.setdefault(group["logstore"], []).append(int(value[4:12]))
    return found


def append(path, text):
    with open(path, "a") as handle:
        handle.write(text)


def config_events(tc):
    return tc.events_named("config_reloaded")


def metrics(port):
    """{"name{labels}": value} of GET /metrics."""
    status, text = http(port, "/metrics")
    assert status == 200
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


def test_discovery_across_projects_and_pages_runs_only_the_groups_holding_the_id(workdir, receiver, tailcars):
    logs = workdir / "logs"
    console(receiver, "proj-a", "web", ["web-sidecar"], logtail_config("nginx", "access", logs, "a*.log",
                                                                        topicFormat="group_topic"), topic="frontend")
    for name in ["aa-decoy", "ab-other"]:  # before "web": the matching group is on the second page
        admin(receiver, op="group", project="proj-a", name=name, ids=["someone-else"])
    admin(receiver, op="config", project="proj-a", body=logtail_config("decoy", "decoy", logs, "d*.log"))
    admin(receiver, op="apply", project="proj-a", group="aa-decoy", config="decoy")
    admin(receiver, op="project", name="proj-0-empty")
    console(receiver, "proj-b", "batch", ["ops", "web-sidecar"], logtail_config("jobs", "jobs", logs, "b*.log"))
    port = free_port()
    env = sidecar_env(workdir, receiver, TAILCAR_HTTP_PORT=port)
    local = workdir / "local.yaml"
    local.write_text("inputs: [{Type: input_file, FilePaths: [\"%s/l*.log\"]}]\nflushers: [{Type: flusher_blackhole}]\n"
                     % logs)
    tc = tailcars(workdir, None, env=env, argv=FAST + ["--config", str(local)]).started()
    tc.wait_event("sls_configs")
    discovered = tc.events_named("sls_groups_discovered")[0]
    assert (discovered["projects"], discovered["groups"], discovered["matched"]) == (3, 4, "proj-a/web,proj-b/batch")
    wait_until(lambda: len(config_events(tc)) >= 1, what="the console's configs applied")
    append(logs / "a.log", numbered(0, 20))
    append(logs / "b.log", numbered(100, 20))
    append(logs / "d.log", numbered(200, 20))
    wait_until(lambda: sorted(seqs_by_store(receiver).get("access", [])) == list(range(20))
               and sorted(seqs_by_store(receiver).get("jobs", [])) == list(range(100, 120)), what="both configs' lines")
    assert "decoy" not in seqs_by_store(receiver)
    access = [g for g in receiver.groups() if g["logstore"] == "access"]
    assert {g["topic"] for g in access} == {"frontend"} and {g["host"] for g in access} == {f"proj-a.127.0.0.1:{receiver.port}"}

    # A poll is one GetAppliedConfigs per matched group and one GetConfig per applied config: 2 + 2 here.
    admin(receiver, op="reset_requests")
    wait_until(lambda: len(control_requests(receiver)) >= 40, timeout=30, what="ten polls")
    paths = [r["path"] for r in control_requests(receiver)][:40]
    assert sorted(set(paths)) == ["/configs/jobs", "/configs/nginx", "/machinegroups/batch/configs",
                                  "/machinegroups/web/configs"]
    assert all(paths.count(p) == 10 for p in set(paths)), paths
    assert tc.events_named("sls_poll_failed") == []  # every GET carried a signature the SDK's code accepts
    seen = metrics(port)
    assert seen['tailcar_pipelines{source="file"}'] == 1 and seen['tailcar_pipelines{source="sls"}'] == 2
    assert seen["tailcar_sls_polls_total"] >= 10 and seen["tailcar_sls_poll_errors_total"] == 0
    assert abs(seen["tailcar_sls_last_success_timestamp_seconds"] - time.time()) < 30
    assert tc.stop() == 0


def test_check_config_from_sls_shows_local_and_console_pipelines_with_their_origin(workdir, receiver):
    if not BINARY.exists():
        pytest.skip("tailcar binary not built")
    console(receiver, "proj-a", "web", ["web-sidecar"], logtail_config("nginx", "access", workdir / "logs"))
    local = workdir / "local.yaml"
    local.write_text("inputs: [{Type: input_file, FilePaths: [\"%s/x.log\"]}]\nflushers: [{Type: flusher_stdout}]\n"
                     % (workdir / "logs"))
    result = subprocess.run([str(BINARY), "check-config", str(local), "--from-sls"], env=sidecar_env(workdir, receiver),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"pipeline local (file:{local})" in result.stdout
    assert "pipeline nginx (sls:proj-a/nginx via web)" in result.stdout
    # ListProject, ListMachineGroup, GetMachineGroup, GetAppliedConfigs, GetConfig
    assert "1 config(s), 5 request(s)" in result.stderr


def test_configs_edited_added_and_removed_while_lines_flow(workdir, receiver, tailcars):
    logs = workdir / "logs"
    console(receiver, "proj", "web", ["web-sidecar"], logtail_config("app", "first", logs, "app*.log"))
    tc = tailcars(workdir, None, env=sidecar_env(workdir, receiver), argv=FAST).started()
    wait_until(lambda: len(config_events(tc)) >= 1, what="the console's config applied")

    total = 3000
    writer = threading.Thread(target=lambda: [append(logs / "app.log", numbered(n, 1)) or time.sleep(0.0005)
                                              for n in range(total)])
    writer.start()
    wait_until(lambda: len(seqs_by_store(receiver).get("first", [])) > 200, what="lines through the first version")
    admin(receiver, op="config", project="proj", body=logtail_config("app", "second", logs, "app*.log"))
    wait_until(lambda: any(e["changed"] == "app" for e in config_events(tc)), what="the edit applied")
    writer.join()
    wait_until(lambda: sum(len(v) for v in seqs_by_store(receiver).values()) >= total, timeout=30,
               what="every line")
    stores = seqs_by_store(receiver)
    assert sorted(stores["first"] + stores["second"]) == list(range(total))  # each line once
    assert stores["second"] and max(stores["first"]) < min(stores["second"])  # under the version read with

    admin(receiver, op="config", project="proj", body=logtail_config("other", "third", logs, "other*.log"))
    admin(receiver, op="apply", project="proj", group="web", config="other")
    wait_until(lambda: any(e["added"] == "other" for e in config_events(tc)), what="the added config")
    append(logs / "other.log", numbered(5000, 10))
    wait_until(lambda: sorted(seqs_by_store(receiver).get("third", [])) == list(range(5000, 5010)), what="added lines")

    admin(receiver, op="unapply", project="proj", group="web", config="app")
    wait_until(lambda: any(e["removed"] == "app" for e in config_events(tc)), what="the removal")
    append(logs / "app.log", numbered(9000, 5))
    append(logs / "other.log", numbered(5010, 5))
    wait_until(lambda: len(seqs_by_store(receiver)["third"]) == 15, what="the last lines of the kept config")
    assert all(s < total for s in seqs_by_store(receiver)["second"])  # the removed config no longer reads
    assert tc.stop() == 0


def test_sls_unreachable_at_start_runs_the_cached_set(workdir, receiver, tailcars):
    logs = workdir / "logs"
    console(receiver, "proj", "web", ["web-sidecar"], logtail_config("app", "store", logs, "app*.log"))
    env = sidecar_env(workdir, receiver)
    first = tailcars(workdir, None, env=env, argv=FAST).started()
    wait_until(lambda: len(config_events(first)) >= 1, what="the console's config applied")
    append(logs / "app.log", numbered(0, 5))
    wait_until(lambda: sorted(seqs_by_store(receiver).get("store", [])) == list(range(5)), what="the first lines")
    assert first.stop() == 0
    assert (workdir / "state" / "sls-configs.json").exists()

    admin(receiver, op="outage", on=True)
    second = tailcars(workdir, None, env=env, argv=FAST).started()
    assert second.events_named("sls_cache_loaded")[0]["configs"] == 1
    assert second.events_named("agent_started")[0]["pipelines"] == 1
    second.wait_event("sls_poll_failed")
    append(logs / "app.log", numbered(5, 5))
    wait_until(lambda: sorted(seqs_by_store(receiver)["store"]) == list(range(10)), what="lines through the cached config")
    admin(receiver, op="outage", on=False)
    second.wait_event("sls_poll_recovered")
    assert config_events(second) == []  # the same set: nothing reloaded
    assert second.stop() == 0


def test_refused_credentials_are_logged_with_the_code_and_retried_without_stopping(workdir, receiver, tailcars):
    console(receiver, "proj", "web", ["web-sidecar"], logtail_config("app", "store", workdir / "logs"))
    secret = "not-the-secret-4f2a"
    port = free_port()
    env = sidecar_env(workdir, receiver, ALIBABA_CLOUD_ACCESS_KEY_SECRET=secret, TAILCAR_HTTP_PORT=port)
    tc = tailcars(workdir, None, env=env, argv=FAST).started()
    tc.wait_event("sls_poll_failed", count=3)
    failures = tc.events_named("sls_poll_failed")
    assert all(f["code"] == "SignatureNotMatch" and "[request " in f["error"] for f in failures)
    assert failures[0]["retry_in_ms"] < failures[1]["retry_in_ms"] < failures[2]["retry_in_ms"]
    assert http(port, "/healthz")[0] == 200
    seen = metrics(port)
    assert seen["tailcar_sls_poll_errors_total"] >= 3 and seen["tailcar_sls_last_success_timestamp_seconds"] == 0
    assert secret not in "".join(str(e) for e in tc.events)
    assert tc.stop() == 0


def test_no_group_holding_the_id_is_a_warning_and_the_agent_runs_on(workdir, receiver, tailcars):
    console(receiver, "proj", "web", ["someone-else"], logtail_config("app", "store", workdir / "logs"))
    port = free_port()
    tc = tailcars(workdir, None, env=sidecar_env(workdir, receiver, TAILCAR_HTTP_PORT=port),
                  argv=FAST + ["--discovery-interval", "0.5"]).started()
    tc.wait_event("sls_no_group", count=2)
    warning = tc.events_named("sls_no_group")[0]
    assert warning["level"] == "warn" and warning["ids"] == '"web-sidecar"'
    assert http(port, "/healthz")[0] == 200 and config_events(tc) == []
    assert tc.stop() == 0


def test_bootstrap_then_a_sidecar_with_only_the_environment_runs_that_config(workdir, receiver, tailcars):
    seed = (REPO / "deploy" / "examples" / "nginx-error-aliyunlogconfig.yaml").read_text()
    resource = workdir / "resource.yaml"
    resource.write_text(seed.replace("/var/log/nginx", str(workdir / "logs")))
    env = sidecar_env(workdir, receiver, ids="nginx-log-sidecar")
    created = subprocess.run([str(BINARY), "bootstrap", "--config", str(resource)], env=env, capture_output=True,
                             text=True, timeout=60)
    assert created.returncode == 0, created.stdout + created.stderr
    tc = tailcars(workdir, None, env=env, argv=FAST).started()
    wait_until(lambda: len(config_events(tc)) >= 1, what="the bootstrapped config applied")
    assert config_events(tc)[0]["added"] == "nginx-log-error-example"
    append(workdir / "logs" / "error.log", numbered(0, 3))
    wait_until(lambda: sorted(seqs_by_store(receiver).get("nginx-error", [])) == [0, 1, 2], what="the error lines")
    assert {g["host"].split(".")[0] for g in receiver.groups()} == {"k8s-nginx-sidecar-demo"}
    assert tc.stop() == 0


def test_a_pipeline_config_runs_with_the_group_topic_and_leaves_when_its_group_is_deleted(workdir, receiver, tailcars):
    logs = workdir / "logs"
    console(receiver, "proj", "web", ["ops", "web-sidecar"], topic="blue")
    admin(receiver, op="pipeline", project="proj", body={
        "configName": "app", "logSample": "", "global": {"TopicType": "machine_group_topic", "TopicFormat": "x"},
        "inputs": [{"Type": "input_file", "FilePaths": [str(logs / "app*.log")]}],
        "flushers": [{"Type": "flusher_sls", "Logstore": "pipe", "Region": "cn-hangzhou", "TelemetryType": "logs"}]})
    admin(receiver, op="apply", project="proj", group="web", config="app")
    tc = tailcars(workdir, None, env=sidecar_env(workdir, receiver, ids="web-sidecar"), argv=FAST).started()
    wait_until(lambda: any(e["added"] == "app" for e in config_events(tc)), what="the pipeline config applied")
    assert tc.events_named("config_warning") == []
    append(logs / "app.log", numbered(0, 5))
    wait_until(lambda: sorted(seqs_by_store(receiver).get("pipe", [])) == list(range(5)), what="the lines")
    assert {g["topic"] for g in receiver.groups()} == {"blue"}
    paths = [r["path"] for r in control_requests(receiver)]
    assert "/configs/app" in paths and "/pipelineconfigs/app" in paths  # the legacy form first, then this one

    admin(receiver, op="delete_group", project="proj", name="web")
    wait_until(lambda: any(e["removed"] == "app" for e in config_events(tc)), what="the group's configs removed")
    assert tc.stop() == 0


def test_a_broken_edit_is_reported_once_and_the_previous_version_keeps_running(workdir, receiver, tailcars):
    logs = workdir / "logs"
    console(receiver, "proj", "web", ["web-sidecar"], logtail_config("app", "store", logs, "app*.log"))
    tc = tailcars(workdir, None, env=sidecar_env(workdir, receiver), argv=FAST).started()
    wait_until(lambda: len(config_events(tc)) >= 1, what="the console's config applied")
    broken = logtail_config("app", "elsewhere", logs, "app*.log", logType="no_such_log")
    admin(receiver, op="config", project="proj", body=broken)
    tc.wait_event("config_reload_failed")
    admin(receiver, op="reset_requests")
    wait_until(lambda: len(control_requests(receiver)) >= 10, what="five more polls")
    assert len(tc.events_named("config_reload_failed")) == 1
    assert "logType" in tc.events_named("config_reload_failed")[0]["error"]
    append(logs / "app.log", numbered(0, 5))
    wait_until(lambda: sorted(seqs_by_store(receiver).get("store", [])) == list(range(5)), what="lines, old version")
    assert "elsewhere" not in seqs_by_store(receiver) and len(config_events(tc)) == 1
    assert tc.stop() == 0


def test_tailcar_sls_projects_narrows_discovery_without_list_project(workdir, receiver):
    if not BINARY.exists():
        pytest.skip("tailcar binary not built")
    console(receiver, "proj-a", "web", ["web-sidecar"], logtail_config("a-app", "a", workdir / "logs"))
    console(receiver, "proj-b", "web", ["web-sidecar"], logtail_config("b-app", "b", workdir / "logs"))
    env = sidecar_env(workdir, receiver, TAILCAR_SLS_PROJECTS="proj-b, absent-project")
    result = subprocess.run([str(BINARY), "check-config", "--from-sls"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "pipeline b-app (sls:proj-b/b-app via web)" in result.stdout and "a-app" not in result.stdout
    paths = [(r["host"].split(".")[0], r["path"].split("?")[0]) for r in control_requests(receiver)]
    assert paths == [("proj-b", "/machinegroups"), ("absent-project", "/machinegroups"),
                     ("proj-b", "/machinegroups/web"), ("proj-b", "/machinegroups/web/configs"),
                     ("proj-b", "/configs/b-app")]
