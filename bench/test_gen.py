"""bench/test_gen.py: tests for tailcar-gen (run: python3 -m pytest bench/test_gen.py).

Uses the binary at $TAILCAR_GEN, else .build/debug/tailcar-gen (built with
`swift build --product tailcar-gen` when missing). Every file lives in a pytest tmp_path; no timing
assert is tighter than 50%.
"""
import json, os, re, subprocess, time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GEN = os.environ.get("TAILCAR_GEN", str(ROOT / ".build" / "debug" / "tailcar-gen"))
SEED_NGINX = re.compile(r'(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*')
NGINX_MAIN = re.compile(r'^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" "([^"]*)"$')
SEQ = re.compile(r'seq(?:=|:|":)(\d+)')


@pytest.fixture(scope="session", autouse=True)
def built_generator():
    if not os.path.exists(GEN):
        subprocess.run(["swift", "build", "--product", "tailcar-gen"], cwd=ROOT, check=True)


def gen(*args, check=True):
    return subprocess.run([GEN, *args], capture_output=True, check=check)


def sequences(text):
    return [int(m.group(1)) for line in text.splitlines() if (m := SEQ.search(line))]


def verify(*args):
    result = gen(*args, check=False)
    fields = dict(item.split("=") for item in result.stdout.decode().splitlines()[0].split())
    return result.returncode, fields, result.stdout.decode()


@pytest.mark.parametrize("log_type", ["nginx", "nginx-main", "json", "delimiter", "apsara", "java"])
def test_same_seed_gives_same_bytes_and_other_seed_differs(log_type):
    first = gen(f"--log-type={log_type}", "--total-count=2000", "--seed=42").stdout
    second = gen("--log-type", log_type, "--total-count=2000", "--seed=42").stdout
    other = gen(f"--log-type={log_type}", "--total-count=2000", "--seed=43").stdout
    assert first == second
    assert first != other


def test_nginx_lines_match_the_sidecar_seed_regex():
    lines = gen("--log-type=nginx", "--total-count=5000", "--seed=3").stdout.decode().splitlines()
    assert len(lines) == 5000
    for line in lines:
        match = SEED_NGINX.match(line)
        assert match, line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", match.group(1))
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", match.group(2))
        assert match.group(8).isdigit() and 100 <= int(match.group(8)) < 600
    assert len({SEED_NGINX.match(line).group(2) for line in lines}) > 1000
    assert sequences("\n".join(lines)) == list(range(1, 5001))


def test_nginx_main_lines_have_the_standard_main_shape():
    lines = gen("--log-type=nginx-main", "--total-count=3000").stdout.decode().splitlines()
    for line in lines:
        assert NGINX_MAIN.match(line), line
    assert sequences("\n".join(lines)) == list(range(1, 3001))


def test_json_lines_are_objects_with_a_numeric_seq():
    lines = gen("--log-type=json", "--total-count=3000", "--line-bytes=400").stdout.decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(1, 3001))
    assert {"time", "level", "ip", "method", "url", "status", "user_agent", "msg"} <= set(records[0])
    assert all(abs(len(line) + 1 - 400) <= 1 for line in lines)


def test_delimiter_and_apsara_lines_have_fixed_fields():
    delimited = gen("--log-type=delimiter", "--delimiter=,", "--total-count=2000").stdout.decode().splitlines()
    assert all(len(line.split(",")) == 10 and line.split(",")[8].startswith("seq=") for line in delimited)
    apsara = gen("--log-type=apsara", "--total-count=2000").stdout.decode().splitlines()
    pattern = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\]\t\[[A-Z]+\]\t\[\d+\]\t\[[^\]]+:\d+\]\tseq:\d{9}\t")
    assert all(pattern.match(line) for line in apsara)
    assert sequences("\n".join(apsara)) == list(range(1, 2001))


def test_java_records_start_with_a_date_and_some_carry_stack_traces():
    text = gen("--log-type=java", "--total-count=1000").stdout.decode()
    starts = [line for line in text.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ", line)]
    continuation = [line for line in text.splitlines() if line.startswith("\tat ")]
    assert len(starts) == 1000
    assert len(continuation) > 1000
    assert sequences(text) == list(range(1, 1001))


def test_rate_limit_is_roughly_respected(tmp_path):
    started = time.monotonic()
    gen("--log-type=nginx", "--logs-per-sec=400", "--total-count=400", f"--path={tmp_path / 'a.log'}")
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed <= 3.0
    assert len((tmp_path / "a.log").read_text().splitlines()) == 400


def test_duration_stops_an_unlimited_run(tmp_path):
    started = time.monotonic()
    gen("--log-type=json", "--logs-per-sec=1000", "--duration=1", f"--path={tmp_path / 'd.log'}")
    elapsed = time.monotonic() - started
    count = len((tmp_path / "d.log").read_text().splitlines())
    assert 0.5 <= elapsed <= 3.0
    assert 500 <= count <= 1500


@pytest.mark.parametrize("mode", ["rename", "copytruncate"])
@pytest.mark.parametrize("limit", ["--rotate-bytes=200000", "--rotate-records=997"])
def test_rotation_keeps_every_sequence_number_once(tmp_path, mode, limit):
    path = tmp_path / "app.log"
    gen("--log-type=nginx", "--total-count=10000", f"--path={path}", f"--rotate={mode}", limit, "--rotate-keep=100")
    rotated = sorted(tmp_path.glob("app.log.*"), key=lambda p: int(p.suffix[1:]))  # newest first
    assert (tmp_path / "app.log.1").exists() and len(rotated) >= 5
    if limit.startswith("--rotate-records"):
        assert all(len(p.read_text().splitlines()) == 997 for p in rotated)
    files = [f"--verify={p}" for p in [path, *rotated]]
    code, fields, _ = verify(*files, "--expect-count=10000")
    assert code == 0 and fields["missing"] == "0" and fields["duplicated"] == "0"
    everything = sequences("".join(p.read_text() for p in [*reversed(rotated), path]))
    assert everything == list(range(1, 10001))


def test_verify_reports_a_missing_and_a_duplicated_number(tmp_path):
    lines = gen("--log-type=nginx", "--total-count=100").stdout.decode().splitlines(keepends=True)
    damaged = lines[:41] + lines[42:] + [lines[9]]          # 42 lost, 10 twice
    (tmp_path / "raw.log").write_text("".join(damaged))
    code, fields, text = verify(f"--verify={tmp_path / 'raw.log'}", "--expect-count=100")
    assert code == 1
    assert fields["missing"] == "1" and fields["duplicated"] == "1"
    assert "missing 42\n" in text and "duplicated 10 x2\n" in text


def test_verify_reads_collector_json_lines_with_a_content_field(tmp_path):
    records = gen("--log-type=json", "--total-count=50").stdout.decode().splitlines()
    out = [json.dumps({"__time__": 1, "seq": 999999, "content": r}) for r in records if '"seq":7}' not in r]
    (tmp_path / "out.jsonl").write_text("\n".join(out) + "\n")
    code, fields, text = verify(f"--verify={tmp_path / 'out.jsonl'}", "--expect-count=50")
    assert code == 1 and fields["missing"] == "1" and fields["out_of_range"] == "0"
    assert "missing 7\n" in text


def test_verify_of_a_clean_file_exits_zero(tmp_path):
    gen("--log-type=java", "--total-count=300", f"--path={tmp_path / 'j.log'}")
    code, fields, _ = verify(f"--verify={tmp_path / 'j.log'}", "--expect-count=300")
    assert code == 0 and fields["unique"] == "300"


def test_bad_flags_are_rejected_with_a_suggestion():
    result = gen("--log-typ=nginx", check=False)
    assert result.returncode == 2 and b"log-type" in result.stderr
    assert gen("--log-type=xml", check=False).returncode == 2
    assert b"--rotate-bytes" in gen("--help").stdout


def test_write_per_line_writes_each_record_with_its_own_write_and_the_same_bytes(tmp_path):
    batched, per_line = tmp_path / "batched.log", tmp_path / "per-line.log"
    gen(f"--path={batched}", "--total-count=400", "--logs-per-sec=2000")
    gen(f"--path={per_line}", "--total-count=400", "--logs-per-sec=2000", "--write-per-line")
    assert per_line.read_bytes() == batched.read_bytes()
    if os.path.exists("/usr/bin/strace"):
        traced = subprocess.run(["strace", "-f", "-e", "trace=write", "-o", str(tmp_path / "trace"), GEN,
                                 f"--path={tmp_path / 'traced.log'}", "--total-count=50", "--logs-per-sec=5000",
                                 "--write-per-line"], capture_output=True)
        assert traced.returncode == 0
        writes = [line for line in (tmp_path / "trace").read_text().splitlines() if " write(3," in line]
        assert len(writes) == 50


def test_write_per_line_needs_a_rate():
    result = gen("--path=/dev/null", "--write-per-line", check=False)
    assert result.returncode == 2 and b"--logs-per-sec" in result.stderr
