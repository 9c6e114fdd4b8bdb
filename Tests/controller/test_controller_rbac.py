"""deploy/controller/controller.yaml against what the controller does: every API request a controller makes
in a run (list, watch, status patches, its Lease: created, renewed, released) is allowed by the RBAC the
manifest grants its ServiceAccount, and every rule granted is used (least privilege); the status it writes
validates against the CRD's schema."""

import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml

from kube_double_support import GROUP, PLURAL, REPO, VERSION, log_config
from tailcar_harness import wait_until

sys.path.insert(0, str(REPO / "Tests" / "deploy"))
from test_manifests import as_json_schema, crd_schema  # noqa: E402

MANIFEST = REPO / "deploy" / "controller" / "controller.yaml"
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def manifest():
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def granted_rules():
    """(namespace or None for cluster-wide, rule) for every rule bound to the controller's ServiceAccount."""
    docs = manifest()
    account = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs
             if d["kind"] in ("Role", "ClusterRole")}
    rules = []
    for binding in (d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        if {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]} not in binding["subjects"]:
            continue
        namespace = binding["metadata"].get("namespace")
        role = roles[(binding["roleRef"]["kind"], namespace if binding["roleRef"]["kind"] == "Role" else None,
                      binding["roleRef"]["name"])]
        rules += [(namespace, rule) for rule in role["rules"]]
    return rules


def attributes(request):
    """The RBAC attributes of one request: verb, group, resource(/subresource), namespace, name."""
    url = urlsplit(request["path"])
    parts = url.path.strip("/").split("/")
    group = parts[1]
    rest = parts[3:]
    namespace = None
    if rest[:1] == ["namespaces"]:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] + ("/" + rest[2] if len(rest) > 2 else "")
    name = rest[1] if len(rest) > 1 else None
    if request["method"] == "GET":
        verb = "watch" if "watch=1" in url.query else ("get" if name else "list")
    else:
        verb = VERBS[request["method"]]
    return verb, group, resource, namespace, name


def allowed(attrs, rules):
    verb, group, resource, namespace, name = attrs
    for rule_namespace, rule in rules:
        if rule_namespace is not None and rule_namespace != namespace:
            continue
        if group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"] \
                and ("resourceNames" not in rule or name in rule["resourceNames"]):
            return (rule_namespace, id(rule))
    return None


def test_the_manifest_grants_exactly_what_the_controller_uses(double, receiver, controllers):
    deployment = next(d for d in manifest() if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "tailcar-controller"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["controller"]
    controller = controllers()
    controller.wait_event("leader_elected")
    api = __import__("kubernetes").client.CustomObjectsApi(double.client())
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, log_config("rbac"))
    wait_until(lambda: (api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "rbac").get("status")
                        or {}).get("status") == "OK", timeout=20, what="status OK")
    wait_until(lambda: sum(1 for r in double.requests() if r["method"] == "PUT") >= 1, timeout=10,
               what="a lease renewal")
    before = len(double.requests())
    assert controller.stop() == 0
    assert any(r["method"] == "PUT" for r in double.requests()[before:]), "the lease was not released"
    requests = [r for r in double.requests() if r["agent"] == "tailcar-controller"]
    rules = granted_rules()
    used = set()
    for request in requests:
        attrs = attributes(request)
        rule = allowed(attrs, rules)
        assert rule is not None, f"{request['method']} {request['path']} ({attrs}) is not granted"
        used.add(rule)
    unused = [rule for rule in rules if (rule[0], id(rule[1])) not in used]
    assert not unused, f"granted and never used: {unused}"

    status = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "rbac")
    jsonschema.Draft7Validator(as_json_schema(crd_schema())).validate(status)
