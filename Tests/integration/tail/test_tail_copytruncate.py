# test_tail_copytruncate.py
#
# Owns the checks of logrotate's copytruncate when tailcar had not read the file's end yet: the unread
# lines come from the copy beside it, whatever its name; a compressed copy is reported as a gap with its
# size (from gzip's trailer) and counted. To make "not read yet" certain, tailcar polls alone, every 5 s:
# the lines are written, copied and truncated right after one look, long before the next.

import gzip
import shutil

import pytest

from tailcar_process import Records, append, write_pipeline
from test_tail_rotation import joined, lines

POLLING = ["--no-inotify", "--poll-interval", "5"]


def start_behind(tailcar, workdir, rotation_directory=None):
    """A polling tailcar that has read 40 lines of app.log, and 25 more written right after its look."""
    out = workdir / "out.jsonl"
    config = write_pipeline(workdir / "pipeline.yaml", [str(workdir / "logs" / "*.log")], out=out)
    if rotation_directory is not None:
        text = config.read_text().replace("    MaxDirSearchDepth:",
                                          f"    RotationDirectories: [\"{rotation_directory}\"]\n    MaxDirSearchDepth:")
        config.write_text(text)
    process, records = tailcar().start(config, workdir / "checkpoints", extra=POLLING), Records(out)
    path = workdir / "logs" / "app.log"
    before = lines("before", 40, width=10)
    append(path, joined(before))
    records.wait_for_contents(before, timeout=20)
    unread = lines("unread", 25, width=10)
    append(path, joined(unread))
    return process, records, path, before, unread


@pytest.mark.parametrize("olddir", [False, True])
def test_lines_written_just_before_a_copytruncate_are_read_from_the_copy(tailcar, workdir, olddir):
    """The copy beside the file, or in the input's RotationDirectories (logrotate's olddir)."""
    copy_directory = workdir / ("old" if olddir else "logs")
    copy_directory.mkdir(exist_ok=True)
    process, records, path, before, unread = start_behind(tailcar, workdir, copy_directory if olddir else None)
    shutil.copyfile(path, copy_directory / "app.log-20261204")
    with open(path, "r+b") as handle:
        handle.truncate(0)
    after = lines("after", 3, width=10)
    append(path, joined(after))

    records.wait_for_contents(before + unread + after, timeout=20)
    recovered = process.events.named("truncation_recovered")
    assert len(recovered) == 1, process.stderr_tail()
    assert recovered[0]["copy"].endswith("app.log-20261204")
    assert recovered[0]["bytes"] == len(joined(unread))
    code, _ = process.terminate(15)
    assert code == 0
    assert sorted(records.contents()) == sorted(before + unread + after)


def test_a_compressed_copy_is_reported_as_a_gap_of_its_size(tailcar, workdir):
    process, records, path, before, unread = start_behind(tailcar, workdir)
    with gzip.open(workdir / "logs" / "app.log.1.gz", "wb") as copy:
        copy.write(path.read_bytes())
    with open(path, "r+b") as handle:
        handle.truncate(0)
    after = lines("after", 3, width=10)
    append(path, joined(after))

    records.wait_for_contents(after, timeout=20)
    process.wait_event("truncation_gap", 10)
    gap = process.events.named("truncation_gap")[0]
    assert gap["bytes_lost"] == len(joined(unread)), gap
    assert "app.log.1.gz" in gap["reason"] and "compressed" in gap["reason"]
    code, _ = process.terminate(15)
    assert code == 0
    assert sorted(records.contents()) == sorted(before + after)
