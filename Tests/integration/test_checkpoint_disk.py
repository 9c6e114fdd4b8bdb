"""The checkpoint directory misbehaving under a running agent: deleted (made again at the next save,
nothing reported), or replaced by something that cannot hold the file (every save fails). Collection
goes on either way; while saves fail /healthz and `tailcar status` say degraded, the
tailcar_checkpoint_failing gauge is 1 and checkpoint_failed is logged once (not once per save); the
first save that works again writes everything acknowledged meanwhile and logs checkpoint_recovered.
Root ignores permission bits, so a read-only or full disk is stood in for by a plain file where the
directory was: open(2) of the checkpoint's temporary file fails with ENOTDIR, as it would with EROFS."""

import shutil
import subprocess

from test_health import BIN, agent_factory, http, metric, wait_for  # noqa: F401 (fixture)


def checkpoint_offset(path):
    """The offset recorded for app.log in the checkpoint file, or None."""
    if not path.exists():
        return None
    for line in path.read_text().splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 8 and fields[7].endswith("app.log"):
            return int(fields[5])
    return None


def append(agent, lines):
    with open(agent.log, "a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def test_a_deleted_checkpoint_directory_is_made_again_at_the_next_save(agent_factory, tmp_path):
    agent = agent_factory(lines=["one"])
    checkpoints = tmp_path / "checkpoints"
    wait_for(lambda: checkpoint_offset(checkpoints / "checkpoints.v1") == 4, "the first checkpoint")
    shutil.rmtree(checkpoints)
    append(agent, ["two"])
    wait_for(lambda: agent.delivered() == ["one", "two"], "the second line")
    wait_for(lambda: checkpoint_offset(checkpoints / "checkpoints.v1") == 8, "the checkpoint written again")
    assert "checkpoint_failed" not in (tmp_path / "stderr.log").read_text()


def test_collection_goes_on_while_saves_fail_and_the_next_good_save_catches_up(agent_factory, tmp_path):
    agent = agent_factory(lines=["one"])
    checkpoints = tmp_path / "checkpoints"
    wait_for(lambda: checkpoint_offset(checkpoints / "checkpoints.v1") == 4, "the first checkpoint")
    shutil.rmtree(checkpoints)
    checkpoints.write_text("not a directory\n")
    for number in range(20):
        append(agent, [f"line {number}"])
        wait_for(lambda: len(agent.delivered()) == number + 2, f"line {number} delivered")

    status, body = http(agent.port, "/healthz")
    assert status == 200 and '"status":"degraded"' in body and "checkpoint_error" in body, body
    append(agent, ["after the first failure"])
    metrics = wait_for(lambda: (lambda text: text if metric(text, "tailcar_checkpoint_failures_total") >= 3 else None)(
        http(agent.port, "/metrics")[1]), "three failed saves")
    assert metric(metrics, "tailcar_checkpoint_failing") == 1
    probe = subprocess.run([BIN, "status", "--port", str(agent.port)], capture_output=True, text=True, timeout=10)
    assert probe.returncode == 0 and "degraded" in probe.stdout, probe.stdout + probe.stderr
    log = (tmp_path / "stderr.log").read_text()
    assert log.count('"event":"checkpoint_failed"') == 1, log

    checkpoints.unlink()
    size = agent.log.stat().st_size
    wait_for(lambda: checkpoint_offset(checkpoints / "checkpoints.v1") == size, "the checkpoint caught up")
    wait_for(lambda: '"status":"ok"' in http(agent.port, "/healthz")[1], "/healthz ok again")
    assert metric(http(agent.port, "/metrics")[1], "tailcar_checkpoint_failing") == 0
    assert '"event":"checkpoint_recovered"' in (tmp_path / "stderr.log").read_text()
