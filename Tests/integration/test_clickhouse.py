"""flusher_clickhouse end to end against a real ClickHouse (Debian's clickhouse-server, started by the test
on free ports with its data in a temporary directory): lines written through rotation arrive exactly once
(count and sequence numbers queried back), a server restart mid-stream loses nothing, the table is made
when missing, parsed fields land in their columns or the `fields` Nested column, bytes arrive unaltered,
and a wrong password is retried slowly and never logged."""

import hashlib
import json
import subprocess

import pytest

from clickhouse_support import PASSWORD, USER, ClickHouse, available
from sls_support import numbered
from tailcar_harness import BINARY, wait_until

pytestmark = pytest.mark.skipif(not available(), reason="clickhouse-server missing (bash scripts/setup.sh)")


@pytest.fixture
def clickhouse(workdir):
    server = ClickHouse(workdir)
    yield server
    server.stop()


def ch_yaml(pattern, server, extra_flusher="", processors="", password=PASSWORD):
    return (
        "inputs:\n"
        "  - Type: input_file\n"
        f"    FilePaths: [{json.dumps(str(pattern))}]\n"
        "    TailingAllMatchedFiles: true\n"
        f"{processors}"
        "flushers:\n"
        "  - Type: flusher_clickhouse\n"
        f"    Endpoint: {server.endpoint}\n"
        "    Database: logs\n"
        "    Table: app\n"
        f"    User: {USER}\n"
        f"    Password: {json.dumps(password)}\n"
        f"{extra_flusher}"
    )


def append(path, text):
    with open(path, "a") as handle:
        handle.write(text)


def sequence_counts(server):
    """(rows, distinct sequence numbers, lowest, highest) of the rows with a `seq=` content."""
    text = server.query("SELECT count(), uniqExact(s), min(s), max(s) FROM (SELECT toUInt32(substring(content, 5, 8)) "
                        "AS s FROM logs.app WHERE startsWith(content, 'seq=')) FORMAT TabSeparated")
    return tuple(int(x) for x in text.split())


def wait_rows(server, count, timeout=60):
    def arrived():
        try:
            counts = sequence_counts(server)
        except Exception:  # the table may not exist yet
            return None
        return counts if counts[1] >= count else None
    try:
        return wait_until(arrived, timeout=timeout, interval=0.3, what=f"{count} distinct lines in ClickHouse")
    except AssertionError:
        raise AssertionError(f"lines missing in ClickHouse: {sequence_counts(server)}") from None


@pytest.mark.parametrize("compression,auth", [("lz4", "headers"), ("zstd", "basic"), ("gzip", "headers"), ("none", "basic")])
def test_lines_through_rotation_arrive_exactly_once(workdir, tailcars, clickhouse, compression, auth):
    log = workdir / "logs" / "app.log"
    config = ch_yaml(workdir / "logs" / "app.log*", clickhouse, f"    Compression: {compression}\n    Auth: {auth}\n")
    env = {"ALIYUN_LOG_ENV_TAGS": "_pod_name_", "_pod_name_": "web-1", "PATH": "/usr/bin:/bin"}
    tailcar = tailcars(workdir, config, env=env).started()
    append(log, numbered(0, 3000))
    wait_rows(clickhouse, 3000)
    log.rename(workdir / "logs" / "app.log.1")
    append(workdir / "logs" / "app.log.1", numbered(3000, 500))
    append(log, numbered(3500, 3000))
    assert wait_rows(clickhouse, 6500) == (6500, 6500, 0, 6499)
    assert tailcar.stop() == 0
    assert sequence_counts(clickhouse) == (6500, 6500, 0, 6499), "a line arrived twice after stop"
    paths = clickhouse.query("SELECT path, count() FROM logs.app GROUP BY path ORDER BY path FORMAT TabSeparated")
    by_path = dict(line.split("\t") for line in paths.splitlines())
    assert set(by_path) == {str(log), str(log) + ".1"}
    assert int(by_path[str(log) + ".1"]) >= 500, "the lines appended after the rename carry the new name"
    assert sum(int(n) for n in by_path.values()) == 6500
    tags = clickhouse.query("SELECT DISTINCT tags.key, tags.value FROM logs.app FORMAT TabSeparated").splitlines()
    assert len(tags) == 1 and "_pod_name_" in tags[0] and "web-1" in tags[0] and "__hostname__" in tags[0]
    times = clickhouse.query("SELECT min(time), max(time), max(time_ns) FROM logs.app FORMAT TabSeparated").split("\t")
    assert times[0] >= "2020" and int(times[2]) > 0
    notes = [e["message"] for e in tailcar.events_named("config_note")]
    assert any("CREATE TABLE IF NOT EXISTS" in n for n in notes)
    assert all(PASSWORD not in json.dumps(event) for event in tailcar.events)


def test_server_restart_mid_stream_loses_nothing(workdir, tailcars, clickhouse):
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, ch_yaml(log, clickhouse)).started()
    append(log, numbered(0, 2000))
    wait_rows(clickhouse, 2000)
    clickhouse.stop()
    append(log, numbered(2000, 2000))
    tailcar.wait_event("send_failed", timeout=30)
    assert any("cannot connect" in e["error"] or "closed" in e["error"] or "ECONN" in e["error"]
               for e in tailcar.events_named("send_failed"))
    clickhouse.start()
    append(log, numbered(4000, 2000))
    rows, distinct, low, high = wait_rows(clickhouse, 6000, timeout=90)
    tailcar.wait_event("send_recovered", timeout=10)
    assert (distinct, low, high) == (6000, 0, 5999)
    assert rows == 6000, f"{rows - distinct} lines inserted twice across the restart"
    assert tailcar.stop() == 0


def test_sigkill_then_restart_of_the_agent_loses_nothing(workdir, tailcars, clickhouse):
    log = workdir / "logs" / "app.log"
    config = ch_yaml(log, clickhouse)
    tailcar = tailcars(workdir, config).started()
    append(log, numbered(0, 3000))
    wait_rows(clickhouse, 3000)
    clickhouse.stop()
    append(log, numbered(3000, 1000))
    tailcar.wait_event("send_failed", timeout=30)
    tailcar.kill()
    clickhouse.start()
    restarted = tailcars(workdir, config).started()
    assert wait_rows(clickhouse, 4000) == (4000, 4000, 0, 3999)
    assert restarted.stop() == 0


def test_fields_columns_and_bytes_arrive_unaltered(workdir, tailcars, clickhouse):
    log = workdir / "logs" / "app.log"
    processors = ("processors:\n"
                  "  - Type: processor_parse_regex_native\n"
                  "    SourceKey: content\n"
                  r"    Regex: '(\S+) (\S+) (.*)'" "\n"
                  "    Keys: [when, level, message]\n")
    config = ch_yaml(log, clickhouse, "    Columns: [message, level]\n", processors)
    tailcar = tailcars(workdir, config).started()
    with open(log, "ab") as handle:
        handle.write(b'2024-05-06T07:08:09 WARN disk "almost" full\\\t\n')
        handle.write(b"2024-05-06T07:08:10 INFO bad \xff\xfe bytes\x01\n")
    wait_until(lambda: clickhouse.query("EXISTS TABLE logs.app").strip() == "1"
               and clickhouse.query("SELECT count() FROM logs.app").strip() == "2", timeout=30, what="two rows")
    rows = clickhouse.query("SELECT level, hex(message), fields.key, fields.value FROM logs.app ORDER BY level "
                            "FORMAT JSONEachRow").splitlines()
    info, warn = [json.loads(row) for row in rows]
    assert info["level"] == "INFO" and bytes.fromhex(info["hex(message)"]) == b"bad \xff\xfe bytes\x01"
    assert warn["level"] == "WARN" and bytes.fromhex(warn["hex(message)"]) == b'disk "almost" full\\\t'
    assert warn["fields.key"] == ["when"] and warn["fields.value"] == ["2024-05-06T07:08:09"]
    columns = clickhouse.query("SELECT name, type FROM system.columns WHERE database = 'logs' AND table = 'app' "
                               "FORMAT TabSeparated").splitlines()
    assert [c.split("\t")[0] for c in columns] == ["time", "time_ns", "path", "topic", "tags.key", "tags.value",
                                                   "message", "level", "fields.key", "fields.value"]
    assert tailcar.stop() == 0


@pytest.mark.parametrize("compression", ["lz4", "zstd"])
def test_a_record_longer_than_one_compressed_block_arrives_whole(workdir, tailcars, clickhouse, compression):
    """ClickHouse's compressed blocks hold at most 1 MiB of the body: a 400 KB line of control bytes is
    2.4 MB of JSON (each byte as \\u0001), three blocks, each checksummed."""
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, ch_yaml(log, clickhouse, f"    Compression: {compression}\n")).started()
    big = b"".join(b"\x01" * 999 + b"%d" % (n % 10) for n in range(400))
    with open(log, "ab") as handle:
        handle.write(b"before\n" + big + b"\nafter\n")
    wait_until(lambda: clickhouse.query("EXISTS TABLE logs.app").strip() == "1"
               and clickhouse.query("SELECT count() FROM logs.app").strip() == "3", timeout=30, what="three rows")
    rows = clickhouse.query("SELECT length(content), lower(hex(MD5(content))) FROM logs.app ORDER BY length(content) "
                            "FORMAT TabSeparated").splitlines()
    assert [row.split("\t")[0] for row in rows] == ["5", "6", str(len(big))]
    assert rows[2].split("\t")[1] == hashlib.md5(big).hexdigest()
    assert tailcar.stop() == 0


def test_wrong_password_is_retried_slowly_and_never_logged(workdir, tailcars, clickhouse):
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, ch_yaml(log, clickhouse, password="not-the-password")).started()
    append(log, numbered(0, 10))
    tailcar.wait_event("send_failed", timeout=30)
    failure = tailcar.events_named("send_failed")[0]
    assert "HTTP 401" in failure["error"] or "HTTP 403" in failure["error"] or "Wrong password" in failure["error"]
    assert failure["retry_in_ms"] >= 10_000
    assert tailcar.stop() == 0
    assert all("not-the-password" not in json.dumps(event) for event in tailcar.events)
    restarted = tailcars(workdir, ch_yaml(log, clickhouse)).started()
    assert wait_rows(clickhouse, 10) == (10, 10, 0, 9)
    assert restarted.stop() == 0


def test_check_config_names_bad_fields(workdir):
    config = workdir / "bad.yaml"
    config.write_text("inputs:\n  - Type: input_file\n    FilePaths: [/tmp/x.log]\n"
                      "flushers:\n  - Type: flusher_clickhouse\n    Endpoint: http://127.0.0.1:8123\n"
                      "    Database: 'logs; DROP'\n    Table: app\n    Columns: [time, 9x]\n    Auth: kerberos\n"
                      "    Compression: brotli\n")
    result = subprocess.run([str(BINARY), "check-config", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    for field in ["flushers[0].Database", "flushers[0].Columns[0]", "flushers[0].Columns[1]", "flushers[0].Auth",
                  "flushers[0].Compression"]:
        assert field in result.stderr, (field, result.stderr)
    assert 'expected lz4, zstd, gzip or none, found "brotli"' in result.stderr
    good = workdir / "good.yaml"
    good.write_text("inputs:\n  - Type: input_file\n    FilePaths: [/tmp/x.log]\n"
                    "flushers:\n  - Type: flusher_clickhouse\n    Endpoint: http://127.0.0.1:8123\n"
                    "    Database: logs\n    Table: app\n    Password: hunter2\n")
    result = subprocess.run([str(BINARY), "check-config", str(good)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert ("flusher_clickhouse http://127.0.0.1:8123 table logs.app (created when missing), columns content, "
            "user default by headers, lz4") in output
    assert "hunter2" not in output


def test_bootstrap_creates_the_database_and_table_then_finds_them(workdir, clickhouse):
    config = workdir / "pipeline.yaml"
    config.write_text(ch_yaml(workdir / "logs" / "app.log", clickhouse, "    Columns: [content, level]\n"))
    env = {"PATH": "/usr/bin:/bin"}
    first = subprocess.run([str(BINARY), "bootstrap", "--config", str(config)], capture_output=True, text=True,
                           timeout=60, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"clickhouse database {clickhouse.endpoint} logs: created [request none]",
                                         f"clickhouse table {clickhouse.endpoint} logs.app: created [request none]"]
    columns = clickhouse.query("SELECT name FROM system.columns WHERE database = 'logs' AND table = 'app' "
                               "FORMAT TabSeparated").split()
    assert columns == ["time", "time_ns", "path", "topic", "tags.key", "tags.value", "content", "level",
                       "fields.key", "fields.value"]
    second = subprocess.run([str(BINARY), "bootstrap", "--config", str(config)], capture_output=True, text=True,
                            timeout=60, env=env)
    assert second.returncode == 0 and all(": exists" in line for line in second.stdout.splitlines()), second.stdout
    wrong = workdir / "wrong.yaml"
    wrong.write_text(ch_yaml(workdir / "logs" / "app.log", clickhouse, password="bad-password"))
    refused = subprocess.run([str(BINARY), "bootstrap", "--config", str(wrong)], capture_output=True, text=True,
                             timeout=60, env=env)
    assert refused.returncode == 1 and "failed" in refused.stdout and "HTTP 401" in refused.stdout
    assert "bad-password" not in refused.stdout + refused.stderr


def test_run_bootstrap_creates_the_database_and_table_before_it_starts(workdir, tailcars, clickhouse):
    # CreateTable: false, so only --bootstrap can have made the table (with the configured column `level`).
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, ch_yaml(log, clickhouse, "    CreateTable: false\n    Columns: [content, level]\n"),
                       "--bootstrap").started()
    events = tailcar.events_named("bootstrap")
    assert [(e["resource"], e["outcome"], e["level"]) for e in events] == [
        (f"clickhouse database {clickhouse.endpoint} logs", "created [request none]", "info"),
        (f"clickhouse table {clickhouse.endpoint} logs.app", "created [request none]", "info")], events
    columns = clickhouse.query("SELECT name FROM system.columns WHERE database = 'logs' AND table = 'app' "
                               "FORMAT TabSeparated").split()
    assert columns == ["time", "time_ns", "path", "topic", "tags.key", "tags.value", "content", "level",
                       "fields.key", "fields.value"]
    append(log, numbered(0, 100))
    wait_rows(clickhouse, 100)
    assert sequence_counts(clickhouse) == (100, 100, 0, 99)
    assert tailcar.events_named("send_failed") == []
    assert tailcar.stop() == 0


def test_run_bootstrap_failures_are_logged_and_the_run_continues(workdir, tailcars, clickhouse):
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, ch_yaml(log, clickhouse, password="bad-password"), "--bootstrap").started()
    events = tailcar.events_named("bootstrap")
    assert len(events) == 1 and events[0]["level"] == "warn" and "HTTP 401" in events[0]["outcome"], events
    assert "bad-password" not in json.dumps(tailcar.events)
    assert tailcar.stop() == 0


def test_a_table_that_does_not_fit_keeps_the_lines_until_it_is_fixed(workdir, tailcars, clickhouse):
    clickhouse.query("CREATE DATABASE logs")
    clickhouse.query("CREATE TABLE logs.app (time DateTime, content String) ENGINE = MergeTree ORDER BY time")
    log = workdir / "logs" / "app.log"
    tailcar = tailcars(workdir, ch_yaml(log, clickhouse, "    CreateTable: false\n")).started()
    append(log, numbered(0, 50))
    tailcar.wait_event("send_failed", timeout=30)
    failure = tailcar.events_named("send_failed")[0]
    assert "HTTP 500" in failure["error"] and "Code: 117" in failure["error"], failure
    assert failure["retry_in_ms"] >= 10_000, "a table a person must fix is retried slowly"
    assert clickhouse.query("SELECT count() FROM logs.app").strip() == "0"
    clickhouse.query("DROP TABLE logs.app")
    clickhouse.query("CREATE TABLE logs.app (time DateTime, time_ns UInt32, path String, topic String, "
                     "tags Nested(key String, value String), content String, fields Nested(key String, value String)) "
                     "ENGINE = MergeTree ORDER BY time")
    assert wait_rows(clickhouse, 50, timeout=60) == (50, 50, 0, 49)
    assert not tailcar.events_named("send_rejected"), "nothing was dropped while the table did not fit"
    assert tailcar.stop() == 0
