"""bench/modes.py: the parsing modes the suite runs end to end: for each, the tailcar-gen log type, the
record count at full size (about 256 MB), and the pipeline's Multiline block and processors. Owns the
pipelines' text, not how they are run (run.py, profiles.py)."""

from benchlib import gen_data, pipeline, scaled

SEED_REGEX = (r'(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*')
SEED_KEYS = ["time", "ip", "method", "url", "protocol", "latency", "payload", "status", "response-size", "referer",
             "user-agent"]
JAVA_START = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} .*"
DELIMITER_KEYS = ["time", "level", "ip", "method", "path", "status", "bytes", "latency_ms", "seq", "message"]


def keys(names):
    return "[" + ", ".join(f'"{k}"' for k in names) + "]"


# Each mode: tailcar-gen log type, records at full size (~256 MB), the Multiline block, the processors.
MODES = {
    "simple": ("nginx", 1300000, "", ""),
    "regex": ("nginx", 1300000, "", "  - Type: processor_parse_regex_native\n    SourceKey: content\n"
              f"    Regex: '{SEED_REGEX}'\n    Keys: {keys(SEED_KEYS)}\n"),
    "multiline": ("java", 540000, f"    Multiline:\n      Mode: custom\n      StartPattern: '{JAVA_START}'\n", ""),
    "json": ("json", 1000000, "", "  - Type: processor_parse_json_native\n    SourceKey: content\n"),
    "delimiter": ("delimiter", 2200000, "", "  - Type: processor_parse_delimiter_native\n    SourceKey: content\n"
                  f"    Separator: '|'\n    Quote: '\"'\n    Keys: {keys(DELIMITER_KEYS)}\n"),
}


def mode_data(mode, count=None):
    """The mode's input file and its record count; the full nginx file keeps its historical name."""
    log_type, full, _, _ = MODES[mode]
    count = count or scaled(full)
    name = "seed-nginx-1.log" if log_type == "nginx" and count == 1300000 else None
    return gen_data(log_type, count, name=name), count


def mode_pipeline(mode, paths, flusher="  - Type: flusher_blackhole\n"):
    _, _, multiline, processors = MODES[mode]
    return pipeline(paths, processors=processors, multiline=multiline, flusher=flusher)
