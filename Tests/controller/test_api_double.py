"""The API double speaks the API server's wire format: the official `kubernetes` client lists, watches from a
resourceVersion (with bookmarks), patches the status subresource, gets 410 after a compaction and re-lists,
and takes, renews and loses Leases with optimistic concurrency."""

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from kube_double_support import GROUP, PLURAL, VERSION, KubeDouble, log_config


@pytest.fixture
def double():
    process = KubeDouble("--bookmark-seconds", "0.3")
    yield process
    process.stop()


def custom(double):
    return client.CustomObjectsApi(double.client())


def test_list_create_get_and_generation(double):
    api = custom(double)
    created = api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, log_config("a"))
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    api.create_namespaced_custom_object(GROUP, VERSION, "team", PLURAL, log_config("b"))
    listing = api.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert listing["kind"] == "AliyunLogConfigList"
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in listing["items"]] == \
        [("default", "a"), ("team", "b")]
    assert int(listing["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])
    only = api.list_namespaced_custom_object(GROUP, VERSION, "team", PLURAL)
    assert [i["metadata"]["name"] for i in only["items"]] == ["b"]
    changed = dict(created, spec=dict(created["spec"], logstore="other"))
    replaced = api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a", changed)
    assert replaced["metadata"]["generation"] == 2
    with pytest.raises(ApiException) as stale:
        api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a", changed)
    assert stale.value.status == 409
    with pytest.raises(ApiException) as missing:
        api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nope")
    assert missing.value.status == 404


def test_status_subresource_patch_leaves_spec_and_generation(double):
    api = custom(double)
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, log_config("a"))
    patched = api.patch_namespaced_custom_object_status(
        GROUP, VERSION, "default", PLURAL, "a", {"status": {"status": "OK", "statusCode": 200}})
    assert patched["status"] == {"status": "OK", "statusCode": 200}
    assert patched["metadata"]["generation"] == 1
    again = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a")
    assert again["status"]["status"] == "OK" and again["spec"]["logstore"] == "app"
    # status written through the main resource is ignored, as with a status subresource
    again["status"] = {"status": "bogus"}
    api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a", again)
    assert api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a")["status"]["status"] == "OK"
    kinds = {r["content_type"] for r in double.requests() if r["method"] == "PATCH"}
    assert kinds <= {"application/merge-patch+json", "application/json-patch+json"}


def test_watch_from_resource_version_with_bookmarks(double):
    api = custom(double)
    listing = api.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    version = listing["metadata"]["resourceVersion"]

    def writer():
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, log_config("w"))
        api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "w", {"spec": {"logstore": "x"}})
        api.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "w")

    seen = []
    stream = watch.Watch()
    thread = threading.Thread(target=writer)
    for event in stream.stream(api.list_cluster_custom_object, GROUP, VERSION, PLURAL, resource_version=version,
                               allow_watch_bookmarks=True, timeout_seconds=10):
        if not thread.is_alive() and not seen:
            thread.start()
        seen.append((event["type"], event["object"]["metadata"].get("name"),
                     event["object"]["metadata"].get("generation")))
        if sum(1 for s in seen if s[0] == "BOOKMARK") >= 2 and any(s[0] == "DELETED" for s in seen):
            stream.stop()
    thread.join(timeout=10)
    changes = [s for s in seen if s[0] != "BOOKMARK"]
    assert changes == [("ADDED", "w", 1), ("MODIFIED", "w", 2), ("DELETED", "w", 2)]
    assert any(s[0] == "BOOKMARK" for s in seen)
    # a bookmark carries a version to resume from: nothing before it comes again
    assert stream.resource_version is not None and int(stream.resource_version) > int(version)


def test_watch_from_a_compacted_version_answers_410_and_a_relist_resumes(double):
    api = custom(double)
    old = api.list_cluster_custom_object(GROUP, VERSION, PLURAL)["metadata"]["resourceVersion"]
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, log_config("a"))
    double.control("compact")
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(api.list_cluster_custom_object, GROUP, VERSION, PLURAL,
                                      resource_version=old, timeout_seconds=5):
            pass
    assert gone.value.status == 410
    fresh = api.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert [i["metadata"]["name"] for i in fresh["items"]] == ["a"]
    stream = watch.Watch()
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, log_config("b"))
    for event in stream.stream(api.list_cluster_custom_object, GROUP, VERSION, PLURAL,
                               resource_version=fresh["metadata"]["resourceVersion"], timeout_seconds=5):
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "b")
        stream.stop()


def test_leases_create_renew_and_conflict(double):
    leases = client.CoordinationV1Api(double.client())
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="tailcar-controller"),
                          spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15))
    created = leases.create_namespaced_lease("kube-system", body)
    assert created.spec.holder_identity == "a"
    with pytest.raises(ApiException) as exists:
        leases.create_namespaced_lease("kube-system", body)
    assert exists.value.status == 409
    current = leases.read_namespaced_lease("tailcar-controller", "kube-system")
    current.spec.holder_identity = "b"
    renewed = leases.replace_namespaced_lease("tailcar-controller", "kube-system", current)
    assert renewed.spec.holder_identity == "b"
    assert renewed.metadata.resource_version != current.metadata.resource_version
    current.spec.holder_identity = "c"  # still the old resourceVersion: someone else won
    with pytest.raises(ApiException) as conflict:
        leases.replace_namespaced_lease("tailcar-controller", "kube-system", current)
    assert conflict.value.status == 409


def test_wrong_token_is_refused(double):
    configuration = client.Configuration()
    configuration.host = double.url
    configuration.api_key = {"authorization": "Bearer wrong"}
    api = client.CustomObjectsApi(client.ApiClient(configuration))
    with pytest.raises(ApiException) as refused:
        api.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert refused.value.status == 401
