# Tests/deploy/test_image_files.py
#
# The two ways to build the image must give the same image: the Dockerfile's `runtime` stage (after a
# Swift build stage, which needs network) and deploy/image/Containerfile.prebuilt (offline, from a host
# binary). Both copy what deploy/image/stage-rootfs.sh stages; this checks that their instructions
# agree line for line, apart from where the staged files come from. Building is Tests/container's job.
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def runtime_stage(path):
    lines = [l.strip() for l in path.read_text().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    start = max(i for i, l in enumerate(lines) if l.startswith("FROM "))
    assert lines[start] == "FROM scratch AS runtime", f"{path.name}: the last stage is {lines[start]}"
    return [l.replace("--from=build ", "").replace("/stage/", "") for l in lines[start:]]


def test_dockerfile_runtime_stage_equals_the_prebuilt_containerfile():
    dockerfile = runtime_stage(REPO / "Dockerfile")
    prebuilt = runtime_stage(REPO / "deploy/image/Containerfile.prebuilt")
    assert dockerfile == prebuilt
    assert "USER 65532:65532" in prebuilt
    assert "COPY --chown=65532:65532 state/ /var/lib/tailcar/" in prebuilt
    assert 'ENTRYPOINT ["/usr/local/bin/tailcar"]' in prebuilt


def test_both_builds_stage_the_root_filesystem_with_the_same_script():
    assert "stage-rootfs.sh .build/release/tailcar /stage" in (REPO / "Dockerfile").read_text()
    assert "deploy/image/stage-rootfs.sh" in (REPO / "scripts/image.sh").read_text()
    assert "--static-swift-stdlib -Xswiftc -static-executable" in (REPO / "Dockerfile").read_text()
