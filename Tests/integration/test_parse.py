"""`tailcar parse`: a pipeline's processors over sample lines, records printed as JSON, failures marked."""

import json
import subprocess

from tailcar_harness import BINARY


def test_parse_prints_parsed_records_and_marks_unmatched_and_dropped_ones(workdir):
    config = workdir / "p.yaml"
    config.write_text(
        "inputs: [{Type: input_file, FilePaths: [/l/*.log]}]\n"
        "processors:\n"
        "  - Type: processor_parse_delimiter_native\n"
        "    Separator: '|'\n"
        "    Quote: \"'\"\n"
        "    Keys: [level, message]\n"
        "    AllowingShortenedFields: false\n"
        "    KeepingSourceWhenParseFail: true\n"
        "  - Type: processor_parse_json_native\n"
        "    SourceKey: message\n"
        "flushers: [{Type: flusher_stdout}]\n")
    sample = b'INFO|{"user":"ann","n":2}\nWARN|not json\njust one field\n'
    result = subprocess.run([str(BINARY), "parse", "--config", str(config)], input=sample,
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["level"] == "INFO" and records[0]["user"] == "ann" and records[0]["n"] == "2"
    assert "__unmatched__" not in records[0]
    assert records[1]["level"] == "WARN" and records[1]["__unmatched__"] is True
    assert records[2]["content"] == "just one field" and records[2]["__unmatched__"] is True
    assert all(r["__path__"] == "stdin" for r in records)


def test_parse_reports_a_configuration_error_with_its_position(workdir):
    config = workdir / "p.yaml"
    config.write_text("inputs: [{Type: input_file, FilePaths: [/l/*.log]}]\n"
                      "processors: [{Type: processor_parse_delimiter_native, Keys: [a]}]\n"
                      "flushers: [{Type: flusher_stdout}]\n")
    result = subprocess.run([str(BINARY), "parse", "--config", str(config)], input=b"x\n",
                            capture_output=True, timeout=30)
    assert result.returncode == 1
    assert b"p.yaml:2:" in result.stderr and b"Separator" in result.stderr
