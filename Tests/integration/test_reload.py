"""Hot reload of a configuration directory mounted the way Kubernetes mounts a ConfigMap (files are
symlinks through `..data`, which is swapped atomically): pipelines are added, changed and removed without
a restart; a changed pipeline continues every file at its acknowledged offset; an unchanged one is not
touched; a broken configuration changes nothing."""

import itertools
import os

from tailcar_harness import content_bytes, pipeline_yaml, read_records, wait_until

_generation = itertools.count(1)


def contents(path):
    return [content_bytes(r) for r in read_records(path)]


def append(path, lines):
    with open(path, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))


def publish(conf, files):
    """Writes `files` ({name: text}) as a ConfigMap update: a new timestamped directory, `..data` swapped
    to it with a rename, a `name -> ..data/name` symlink per file, symlinks of removed files deleted."""
    generation = conf / f"..2026_11_27_{next(_generation):02d}"
    generation.mkdir()
    for name, text in files.items():
        (generation / name).write_text(text)
    temporary = conf / "..data_tmp"
    os.symlink(generation.name, temporary)
    os.rename(temporary, conf / "..data")
    for name in files:
        if not (conf / name).is_symlink():
            os.symlink(f"..data/{name}", conf / name)
    for entry in conf.iterdir():
        if not entry.name.startswith(".") and entry.name not in files:
            entry.unlink()


def events(tc, name):
    return [e for e in tc.events if e.get("event") == name]


def test_a_configmap_swap_adds_changes_and_removes_pipelines_without_a_restart(workdir, tailcars):
    conf = workdir / "conf"
    conf.mkdir()
    logs = workdir / "logs"
    first_out, second_out, b_out, c_out = (workdir / n for n in ("a1.jsonl", "a2.jsonl", "b.jsonl", "c.jsonl"))
    a_pipeline = pipeline_yaml([logs / "a*.log"], first_out)
    c_pipeline = pipeline_yaml([logs / "c*.log"], c_out)
    publish(conf, {"a.yaml": a_pipeline, "c.yaml": c_pipeline})
    tc = tailcars(workdir, "", argv=["run", "--config", str(conf), "--checkpoint-dir", str(workdir / "state"),
                                     "--poll-interval", "0.1", "--http-port", "0"]).started()
    append(logs / "a.log", [b"a before %d" % i for i in range(1000)])
    append(logs / "c.log", [b"c before %d" % i for i in range(10)])
    append(logs / "b.log", [b"b existing %d" % i for i in range(5)])
    wait_until(lambda: len(contents(first_out)) == 1000 and len(contents(c_out)) == 10, what="the first lines")
    opened_before = len(events(tc, "file_opened"))

    # a changes (another output), b is added, c stays as it is.
    publish(conf, {"a.yaml": pipeline_yaml([logs / "a*.log"], second_out), "b.yaml": pipeline_yaml([logs / "b*.log"], b_out),
                   "c.yaml": c_pipeline})
    tc.wait_event("config_reloaded")
    reloaded = events(tc, "config_reloaded")[0]
    assert (reloaded["added"], reloaded["changed"], reloaded["removed"]) == ("b", "a", "")
    append(logs / "a.log", [b"a after %d" % i for i in range(1000)])
    append(logs / "c.log", [b"c after %d" % i for i in range(10)])
    wait_until(lambda: len(contents(second_out)) == 1000 and len(contents(c_out)) == 20
               and len(contents(b_out)) == 5, what="the lines after the reload")
    assert contents(first_out) == [b"a before %d" % i for i in range(1000)]
    assert contents(second_out) == [b"a after %d" % i for i in range(1000)]  # continued, not restarted
    assert contents(c_out) == [b"c before %d" % i for i in range(10)] + [b"c after %d" % i for i in range(10)]
    assert contents(b_out) == [b"b existing %d" % i for i in range(5)]
    opened_after = [e["path"] for e in events(tc, "file_opened")[opened_before:]]
    assert sorted(os.path.basename(p) for p in opened_after) == ["a.log", "b.log"]  # c.log was not reopened
    assert [e["start"] for e in events(tc, "file_opened")[opened_before:] if e["path"].endswith("a.log")] == ["checkpoint"]

    # b is removed; what b.log gains afterwards goes nowhere.
    publish(conf, {"a.yaml": pipeline_yaml([logs / "a*.log"], second_out), "c.yaml": c_pipeline})
    tc.wait_event("config_reloaded", count=2)
    assert events(tc, "config_reloaded")[1]["removed"] == "b"
    append(logs / "b.log", [b"b late"])
    append(logs / "c.log", [b"c last"])
    wait_until(lambda: contents(c_out)[-1:] == [b"c last"], what="the last c line")
    assert contents(b_out) == [b"b existing %d" % i for i in range(5)]
    assert tc.stop() == 0


def test_a_broken_configuration_changes_nothing_and_a_fixed_one_applies(workdir, tailcars):
    conf = workdir / "conf"
    conf.mkdir()
    logs = workdir / "logs"
    out, other = workdir / "out.jsonl", workdir / "other.jsonl"
    publish(conf, {"a.yaml": pipeline_yaml([logs / "*.log"], out)})
    tc = tailcars(workdir, "", argv=["run", "--config", str(conf), "--checkpoint-dir", str(workdir / "state"),
                                     "--poll-interval", "0.1", "--http-port", "0"]).started()
    publish(conf, {"a.yaml": "inputs: [{Type: input_file, FilePaths: relative/*.log}]\nflushers: []\n"})
    tc.wait_event("config_reload_failed")
    append(logs / "app.log", [b"still running"])
    wait_until(lambda: contents(out) == [b"still running"], what="the line through the old pipeline")
    publish(conf, {"a.yaml": pipeline_yaml([logs / "*.log"], other)})
    tc.wait_event("config_reloaded")
    append(logs / "app.log", [b"after the fix"])
    wait_until(lambda: contents(other) == [b"after the fix"], what="the line through the new pipeline")
    assert contents(out) == [b"still running"]
    assert tc.stop() == 0


def test_no_reload_keeps_the_configuration_it_started_with(workdir, tailcars):
    conf = workdir / "conf"
    conf.mkdir()
    logs = workdir / "logs"
    out = workdir / "out.jsonl"
    publish(conf, {"a.yaml": pipeline_yaml([logs / "*.log"], out)})
    tc = tailcars(workdir, "", argv=["run", "--config", str(conf), "--checkpoint-dir", str(workdir / "state"),
                                     "--poll-interval", "0.1", "--http-port", "0", "--no-reload"]).started()
    publish(conf, {"a.yaml": pipeline_yaml([logs / "*.log"], workdir / "elsewhere.jsonl")})
    append(logs / "app.log", [b"one"])
    wait_until(lambda: contents(out) == [b"one"], what="the line")
    assert "config_reloaded" not in tc.event_names()
    assert tc.stop() == 0
