# Tests/container/pod_translation.py
#
# A Kubernetes manifest's container, mechanically translated to `podman run` arguments, so a test runs
# the vendor's YAML as written rather than a hand-made copy of it:
#
#   command            -> --entrypoint (JSON), args -> the arguments after the image
#   env value          -> --env NAME=VALUE
#   env valueFrom      -> fieldRef from `fields` (the Downward API values the test chose), secretKeyRef
#                         and configMapKeyRef from `refs`; envFrom secretRef/configMapRef from `refs`
#   volumeMounts       -> --volume HOST:MOUNT[:ro] (subPath joined to the host path), the host path of each
#                         pod volume given by the test (emptyDir, configMap, hostPath alike)
#   securityContext    -> --user, --read-only, --cap-drop, --security-opt no-new-privileges
#   livenessProbe exec -> the command a test runs with `podman exec`
#
# Does not own the image, the network or the test's additions (credentials, the region's config file);
# the caller passes those as `extra`. Anything it does not translate raises, so nothing is dropped silently.
import json
from pathlib import Path

import yaml

TRANSLATED = {"name", "image", "command", "args", "env", "envFrom", "volumeMounts", "securityContext",
              "livenessProbe", "readinessProbe", "startupProbe", "resources", "ports", "imagePullPolicy",
              "restartPolicy"}


def config_maps(manifest_path: Path):
    """name -> data of every ConfigMap in the file."""
    return {document["metadata"]["name"]: document["data"]
            for document in yaml.safe_load_all(Path(manifest_path).read_text())
            if document and document.get("kind") == "ConfigMap"}


def pod_spec(manifest_path: Path):
    """The pod template's spec of the first Job, Deployment or Pod in the file."""
    for document in yaml.safe_load_all(Path(manifest_path).read_text()):
        if not document:
            continue
        if document["kind"] == "Pod":
            return document["spec"]
        if document["kind"] in ("Job", "Deployment", "DaemonSet", "StatefulSet"):
            return document["spec"]["template"]["spec"]
    raise AssertionError(f"{manifest_path}: no workload")


def container(spec, name):
    for candidate in spec.get("containers", []) + spec.get("initContainers", []):
        if candidate["name"] == name:
            return candidate
    raise AssertionError(f"no container {name}")


def env_arguments(entry, fields, refs):
    arguments = []
    for variable in entry.get("env", []):
        if "value" in variable:
            arguments += ["--env", f"{variable['name']}={variable['value']}"]
            continue
        source = variable["valueFrom"]
        if "fieldRef" in source:
            value = fields[source["fieldRef"]["fieldPath"]]
        else:
            ref = source.get("secretKeyRef") or source["configMapKeyRef"]
            value = refs.get(ref["name"], {}).get(ref["key"])
            if value is None:
                if ref.get("optional"):
                    continue
                raise AssertionError(f"env {variable['name']}: no value for {ref}")
        arguments += ["--env", f"{variable['name']}={value}"]
    for source in entry.get("envFrom", []):
        ref = source.get("secretRef") or source["configMapRef"]
        if ref["name"] not in refs and ref.get("optional"):
            continue
        arguments += [a for key, value in refs[ref["name"]].items() for a in ("--env", f"{key}={value}")]
    return arguments


def volume_arguments(entry, host_paths):
    arguments = []
    for mount in entry.get("volumeMounts", []):
        host = Path(host_paths[mount["name"]])
        if mount.get("subPath"):
            host = host / mount["subPath"]
        suffix = ":ro" if mount.get("readOnly") else ""
        arguments += ["--volume", f"{host}:{mount['mountPath']}{suffix}"]
    return arguments


def run_arguments(spec, name, image, host_paths, fields, refs=None):
    """`podman run` options, the image and its arguments for container `name` of `spec`."""
    entry = container(spec, name)
    unknown = set(entry) - TRANSLATED
    assert not unknown, f"container {name}: cannot translate {sorted(unknown)}"
    arguments = env_arguments(entry, fields, refs or {}) + volume_arguments(entry, host_paths)
    security = entry.get("securityContext", {})
    if "runAsUser" in security:
        arguments += ["--user", f"{security['runAsUser']}:{security.get('runAsGroup', security['runAsUser'])}"]
    if security.get("readOnlyRootFilesystem"):
        arguments.append("--read-only")
    for capability in security.get("capabilities", {}).get("drop", []):
        arguments += ["--cap-drop", capability.lower()]
    if security.get("allowPrivilegeEscalation") is False:
        arguments += ["--security-opt", "no-new-privileges"]
    if "command" in entry:
        arguments += ["--entrypoint", json.dumps(entry["command"])]
    return arguments + [image, *entry.get("args", [])]


def liveness_command(spec, name):
    """The exec liveness probe's command, or None."""
    probe = container(spec, name).get("livenessProbe", {})
    return probe.get("exec", {}).get("command")
