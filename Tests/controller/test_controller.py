"""`tailcar controller` end to end: the API double serves AliyunLogConfig resources, the SLS test receiver
plays SLS, and the official kubernetes client plays the user (`kubectl apply`). Resources added, changed,
deleted and re-added while it runs; the watch dropped and answered 410; refused credentials retried with
back-off while other resources go on; two controllers sharing one lease."""

import json
import signal
import subprocess
import urllib.request

from kubernetes import client

from kube_double_support import GROUP, PLURAL, VERSION, log_config
from tailcar_harness import wait_until


def api(double):
    return client.CustomObjectsApi(double.client())


def status_of(double, name, namespace="default"):
    return api(double).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name).get("status") or {}


def wait_status(double, name, predicate, namespace="default", timeout=20):
    wait_until(lambda: predicate(status_of(double, name, namespace)), timeout=timeout,
               what=f"status of {name} (now {status_of(double, name, namespace)})")
    return status_of(double, name, namespace)


def resources(receiver):
    with urllib.request.urlopen(f"http://127.0.0.1:{receiver.port}/_resources", timeout=10) as answer:
        return json.loads(answer.read())


def admin(receiver, command):
    request = urllib.request.Request(f"http://127.0.0.1:{receiver.port}/_admin", data=json.dumps(command).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def create(double, body, namespace="default"):
    return api(double).create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def test_resources_added_changed_deleted_and_readded(double, receiver, controllers):
    create(double, log_config("web", project="k8s-demo", logstore="web", group="web-group"))
    controller = controllers()
    status = wait_status(double, "web", lambda s: s.get("status") == "OK")
    assert status["statusCode"] == 200 and status["observedGeneration"] == 1
    held = resources(receiver)
    assert held["projects"]["k8s-demo"]["description"] == "k8s log project, created by tailcar controller"
    assert held["logstores"]["k8s-demo/web"] == {"logstoreName": "web", "ttl": 90, "shardCount": 2, "autoSplit": True,
                                                 "maxSplitShard": 32, "mode": "standard"}
    index = held["indexes"]["k8s-demo/web"]  # the vendor controller's default Kubernetes index
    assert index["line"]["token"][:4] == [" ", "\n", "\t", "\r"] and "\\" in index["line"]["token"]
    assert len(index["keys"]) == 15 and index["keys"]["_pod_name_"]["doc_value"] is True
    assert index["keys"]["__tag__:_namespace_"]["type"] == "text"
    assert held["machinegroups"]["k8s-demo/web-group"]["machineList"] == ["web-group"]
    assert held["configs"]["k8s-demo/web"]["inputDetail"]["logPath"] == "/var/log/app"
    assert held["configs"]["k8s-demo/web"]["outputDetail"] == {"projectName": "k8s-demo", "logstoreName": "web"}
    assert held["applied"]["k8s-demo/web-group"] == ["web"]

    # a second resource added while it runs
    create(double, log_config("api", project="k8s-demo", logstore="api", group="web-group"), namespace="team")
    wait_status(double, "api", lambda s: s.get("status") == "OK", namespace="team")
    assert resources(receiver)["applied"]["k8s-demo/web-group"] == ["web", "api"]

    # a changed spec: generation 2, the config is updated in SLS
    api(double).patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "web", {
        "spec": {"logtailConfig": {"configName": "web", "inputType": "file", "inputDetail": {
            "logType": "common_reg_log", "logPath": "/var/log/changed", "filePattern": "*.log"}}}})
    status = wait_status(double, "web", lambda s: s.get("observedGeneration") == 2)
    assert status["status"] == "OK"
    assert resources(receiver)["configs"]["k8s-demo/web"]["inputDetail"]["logPath"] == "/var/log/changed"
    reconciled = controller.wait_event("reconciled", where=lambda e: e["resource"] == "default/web" and e["generation"] == 2)
    assert any(step.startswith("config k8s-demo/web: updated") for step in reconciled[0]["steps"])

    # deleted: SLS keeps its data, the log says so
    api(double).delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "web")
    deleted = controller.wait_event("resource_deleted")
    assert deleted[0]["resource"] == "default/web" and "left in place" in deleted[0]["note"]
    assert "k8s-demo/web" in resources(receiver)["configs"]

    # re-added under the same name: a new uid, reconciled again from generation 1
    create(double, log_config("web", project="k8s-demo", logstore="web", group="web-group"))
    wait_status(double, "web", lambda s: s.get("status") == "OK" and s.get("observedGeneration") == 1)
    assert len(controller.named("reconciled")) >= 4
    # status patches went to the status subresource as merge patches
    patches = [r for r in double.requests() if r["method"] == "PATCH" and r["path"].endswith("/status")]
    assert len(patches) >= 4 and {r["content_type"] for r in patches} == {"application/merge-patch+json"}
    assert controller.stop() == 0


def test_watch_drop_and_410_relist(double, receiver, controllers):
    controller = controllers()
    controller.wait_event("listed")
    create(double, log_config("one"))
    wait_status(double, "one", lambda s: s.get("status") == "OK")

    double.control("drop")
    controller.wait_event("watch_ended")
    create(double, log_config("two", logstore="two"))
    wait_status(double, "two", lambda s: s.get("status") == "OK")
    lists_before = len(controller.named("listed"))

    # compaction: the next watch from the old version is answered 410 and the controller lists again
    double.control("compact")
    controller.wait_event("relisting")
    controller.wait_event("listed", count=lists_before + 1)
    create(double, log_config("three", logstore="three"))
    wait_status(double, "three", lambda s: s.get("status") == "OK")
    # nothing reconciled twice for the same generation by the re-list
    one = [e for e in controller.named("reconciled") if e["resource"] == "default/one"]
    assert len(one) == 1
    # the same as an HTTP 410 answer to the watch request
    relists = len(controller.named("relisting"))
    double.control("compact", {"http": True})
    controller.wait_event("relisting", count=relists + 1)
    assert "410" in controller.named("relisting")[-1]["reason"]
    create(double, log_config("four", logstore="four"))
    wait_status(double, "four", lambda s: s.get("status") == "OK")
    watches = [r["path"] for r in double.requests() if "watch=1" in r["path"]]
    assert len(watches) >= 3 and all("allowWatchBookmarks=true" in w and "resourceVersion=" in w for w in watches)


def test_refused_credentials_are_retried_with_backoff_without_blocking_others(double, receiver, controllers):
    create(double, log_config("good", project="good-project", logstore="good"))
    wait_status_before = resources(receiver)["projects"]
    assert wait_status_before == {}
    admin(receiver, {"op": "keys", "keys": {"someoneElse": "secret"}})
    controller = controllers()
    status = wait_status(double, "good", lambda s: s.get("errorCode") == "InvalidAccessKeyId")
    assert status["statusCode"] == 401 and status["requestId"] and status["step"] == "project good-project"
    assert status["observedGeneration"] == 1
    failures = controller.wait_event("reconcile_failed", count=3)
    delays = [e["retry_in_ms"] for e in failures[:3]]
    assert delays == sorted(delays) and delays[0] < delays[2]
    # an invalid resource is reported once and does not stop the others
    bad = log_config("bad")
    del bad["spec"]["logstore"]
    create(double, bad)
    invalid = wait_status(double, "bad", lambda s: s.get("status") == "InvalidSpec")
    assert "spec.logstore" in invalid["errorMessage"] and invalid["statusCode"] == 400
    admin(receiver, {"op": "keys", "keys": {"mockAccessKeyID": "mockAccessKeySecret"}})
    status = wait_status(double, "good", lambda s: s.get("status") == "OK")
    assert status["errorCode"] is None if "errorCode" in status else True
    assert "good-project" in resources(receiver)["projects"]
    secret_seen = any("mockAccessKeySecret" in json.dumps(e) for e in controller.events)
    assert not secret_seen


def test_two_controllers_share_one_lease(double, receiver, controllers):
    first = controllers(identity="ctl-a")
    first.wait_event("leader_elected")
    second = controllers(identity="ctl-b")
    second.wait_event("listed")
    create(double, log_config("shared"))
    wait_status(double, "shared", lambda s: s.get("status") == "OK")
    assert first.named("reconciled") and not second.named("reconciled")
    assert not second.named("leader_elected")
    lease = client.CoordinationV1Api(double.client()).read_namespaced_lease("tailcar-controller", "tailcar-system")
    assert lease.spec.holder_identity == "ctl-a"

    # the leader stops: it releases the lease and the other takes over at once
    assert first.stop() == 0
    second.wait_event("leader_elected", timeout=10)
    create(double, log_config("after", logstore="after"))
    wait_status(double, "after", lambda s: s.get("status") == "OK")
    assert [e["resource"] for e in second.named("reconciled")].count("default/after") == 1
    lease = client.CoordinationV1Api(double.client()).read_namespaced_lease("tailcar-controller", "tailcar-system")
    assert lease.spec.holder_identity == "ctl-b" and lease.spec.lease_transitions >= 1


def test_a_killed_leader_is_replaced_after_the_lease_expires(double, receiver, controllers):
    first = controllers(identity="ctl-a")
    first.wait_event("leader_elected")
    second = controllers(identity="ctl-b")
    second.wait_event("listed")
    first.stop(signal.SIGKILL)
    second.wait_event("leader_elected", timeout=15)
    create(double, log_config("late"))
    wait_status(double, "late", lambda s: s.get("status") == "OK")


def test_health_and_metrics(double, receiver, controllers):
    controller = controllers()
    controller.wait_event("leader_elected")
    create(double, log_config("m"))
    wait_status(double, "m", lambda s: s.get("status") == "OK")
    with urllib.request.urlopen(f"http://127.0.0.1:{controller.port}/healthz", timeout=10) as answer:
        health = json.loads(answer.read())
    assert health["status"] == "ok" and health["leader"] is True and health["resources"] == 1
    with urllib.request.urlopen(f"http://127.0.0.1:{controller.port}/metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    assert "tailcar_controller_leader 1" in metrics
    assert "tailcar_controller_reconciles_total 1" in metrics
    # the Deployment's exec probe
    from tailcar_harness import BINARY
    probe = subprocess.run([str(BINARY), "status", "--port", str(controller.port)], capture_output=True, text=True,
                           timeout=30)
    assert probe.returncode == 0, probe.stderr


def test_in_cluster_credentials_over_tls_with_a_rotated_token(workdir, receiver, controllers_for):
    from sls_support import make_test_ca
    from kube_double_support import KubeDouble
    ca, cert, key = make_test_ca(workdir)
    tls_double = KubeDouble("--bookmark-seconds", "0.5", "--tls-cert", str(cert), "--tls-key", str(key), ca=ca)
    try:
        account = workdir / "serviceaccount"
        account.mkdir()
        (account / "token").write_text(tls_double.token + "\n")
        (account / "ca.crt").write_bytes(ca.read_bytes())
        (account / "namespace").write_text("tailcar-system")
        controller = controllers_for(tls_double, kubeconfig=False, env={
            "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(tls_double.port),
            "TAILCAR_SERVICE_ACCOUNT_DIR": str(account)})
        controller.wait_event("leader_elected")
        started = controller.named("controller_started")[0]
        assert started["api"].startswith(f"https://127.0.0.1:{tls_double.port} (in-cluster)")
        create(tls_double, log_config("tls"))
        wait_status(tls_double, "tls", lambda s: s.get("status") == "OK")
        # the kubelet rotates the token: the file is read again at the next request
        (account / "token").write_text("rotated-token\n")
        tls_double.control("token", {"token": "rotated-token"})
        tls_double.token = "rotated-token"
        tls_double.control("drop")
        create(tls_double, log_config("after-rotation", logstore="later"))
        wait_status(tls_double, "after-rotation", lambda s: s.get("status") == "OK")
        lease = client.CoordinationV1Api(tls_double.client()).read_namespaced_lease("tailcar-controller",
                                                                                   "tailcar-system")
        assert lease.spec.holder_identity == "ctl-a"
        assert not any("rotated-token" in json.dumps(e) or tls_double.token in json.dumps(e) for e in controller.events)
    finally:
        tls_double.stop()


def test_api_errors_and_garbage_are_retried(double, receiver, controllers):
    controller = controllers()
    controller.wait_event("listed")
    # the next watch starts with bytes that are not JSON: reported, watched again
    double.control("garbage")
    ended = controller.wait_event("watch_ended", where=lambda e: "not JSON" in e["reason"])
    assert ended[0]["retry_in_ms"] >= 200
    # the API answers 500 to the next requests (watch, lease): retried with back-off until it answers
    double.control("refuse", {"status": 500, "count": 4, "agent": "tailcar-controller"})
    double.control("drop")
    wait_until(lambda: len(controller.named("watch_ended")) >= 3, timeout=20, what="failed watches")
    create(double, log_config("after-errors"))
    status = wait_status(double, "after-errors", lambda s: s.get("status") == "OK")
    assert status["observedGeneration"] == 1
    assert any("500" in e["reason"] for e in controller.named("watch_ended"))
    assert controller.process.poll() is None


def test_the_seed_examples_applied_to_the_cluster_reach_sls(double, receiver, controllers):
    import yaml
    from kube_double_support import REPO
    controller = controllers()
    controller.wait_event("listed")
    names = []
    for path in sorted((REPO / "deploy" / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            create(double, document)
            names.append(document["metadata"]["name"])
    for name in names:
        wait_status(double, name, lambda s: s.get("status") == "OK")
    held = resources(receiver)
    assert "k8s-nginx-sidecar-demo" in held["projects"]
    assert sorted(held["applied"]["k8s-nginx-sidecar-demo/nginx-log-sidecar"]) == sorted(names)
    for name in names:
        config = held["configs"][f"k8s-nginx-sidecar-demo/{name}"]
        assert config["configName"] == name and config["outputType"] == "LogService"


def test_keep_alive_connections_the_server_closed_cost_nothing(receiver, controllers_for):
    from kube_double_support import KubeDouble
    closing = KubeDouble("--bookmark-seconds", "0.5", "--idle-seconds", "0.2")
    try:
        controller = controllers_for(closing)
        controller.wait_event("leader_elected")
        create(closing, log_config("idle"))
        wait_status(closing, "idle", lambda s: s.get("status") == "OK")
        # lease rounds every 0.5 s, each after the server closed the idle connection
        wait_until(lambda: sum(1 for r in closing.requests() if r["method"] == "PUT") >= 6, timeout=15,
                   what="six lease renewals")
        assert not controller.named("lease_failed") and not controller.named("status_write_failed")
        assert len(controller.named("leader_elected")) == 1
    finally:
        closing.stop()


def test_resync_makes_again_what_was_deleted_in_sls_without_rewriting_the_status(double, receiver, controllers):
    controller = controllers("--resync", "0.5")
    create(double, log_config("drift", project="drift-project", logstore="drift"))
    status = wait_status(double, "drift", lambda s: s.get("status") == "OK")
    controller.wait_event("reconciled", count=2)
    admin(receiver, {"op": "delete_config", "project": "drift-project", "name": "drift"})
    wait_until(lambda: "drift-project/drift" in resources(receiver)["configs"], timeout=10,
               what="the config made again")
    controller.wait_event("reconciled", count=4)
    patches = [r for r in double.requests() if r["method"] == "PATCH" and r["agent"] == "tailcar-controller"]
    assert len(patches) == 1, patches
    assert status_of(double, "drift")["lastUpdateTime"] == status["lastUpdateTime"]


def test_kubeconfig_with_certificate_authority_data_over_tls(workdir, receiver, controllers_for):
    import base64
    import glob
    from sls_support import make_test_ca
    from kube_double_support import KubeDouble
    ca, cert, key = make_test_ca(workdir)
    tls_double = KubeDouble("--bookmark-seconds", "0.5", "--tls-cert", str(cert), "--tls-key", str(key), ca=ca)
    try:
        config = workdir / "kubeconfig-data"
        config.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: tls\n"
            f"clusters:\n- name: k\n  cluster:\n    server: {tls_double.url}\n"
            f"    certificate-authority-data: {base64.b64encode(ca.read_bytes()).decode()}\n"
            f"users:\n- name: u\n  user:\n    tokenFile: token\n"
            "contexts:\n- name: tls\n  context: {cluster: k, user: u, namespace: tailcar-system}\n")
        (workdir / "token").write_text(tls_double.token)
        before = set(glob.glob("/tmp/tailcar-kube-ca-*"))
        controller = controllers_for(tls_double, "--kubeconfig", str(config), kubeconfig=False)
        controller.wait_event("leader_elected")
        create(tls_double, log_config("data"))
        wait_status(tls_double, "data", lambda s: s.get("status") == "OK")
        assert len(set(glob.glob("/tmp/tailcar-kube-ca-*")) - before) == 1
        assert controller.stop() == 0
        assert set(glob.glob("/tmp/tailcar-kube-ca-*")) - before == set()
    finally:
        tls_double.stop()


def test_the_vendor_logstore_settings(double, receiver, controllers):
    controllers()
    create(double, log_config("q", logstore="q", extra_spec={
        "shardCount": 20, "lifeCycle": 30, "logstoreMode": "query", "logstoreHotTTL": 7, "logstoreAutoSplit": False,
        "logstoreTelemetryType": "None", "logstoreEncryptConf": {"enable": True, "encrypt_type": "default"}}))
    wait_status(double, "q", lambda s: s.get("status") == "OK")
    held = resources(receiver)
    assert held["logstores"]["k8s-demo/q"] == {
        "logstoreName": "q", "ttl": 30, "shardCount": 10, "autoSplit": False, "maxSplitShard": 32, "mode": "query",
        "hot_ttl": 7, "telemetryType": "None", "encrypt_conf": {"enable": True, "encrypt_type": "default"}}
    assert held["indexes"]["k8s-demo/q"]["keys"]["_pod_name_"]["doc_value"] is False


def test_a_slow_sls_does_not_cost_the_lease(double, receiver, controllers):
    # each SLS call takes 0.6 s: one reconcile (7 calls) outlasts the 3 s lease, renewed between the calls
    admin(receiver, {"op": "delay", "seconds": 0.6})
    first = controllers(identity="ctl-a")
    first.wait_event("leader_elected")
    second = controllers(identity="ctl-b")
    second.wait_event("listed")
    create(double, log_config("slow", project="slow-project", logstore="slow"))
    wait_status(double, "slow", lambda s: s.get("status") == "OK", timeout=30)
    reconciled = first.named("reconciled")
    assert [e["resource"] for e in reconciled] == ["default/slow"]
    assert not first.named("leader_lost") and len(first.named("leader_elected")) == 1
    assert not second.named("leader_elected") and not second.named("reconciled")
