"""Topics and tags on the records `tailcar run` delivers: each file's topic is found from its path when
it is opened (iLogtail global TopicType filepath, the same rule as Logtail's topicFormat), and every
record carries the ALIYUN_LOG_ENV_TAGS variables and __hostname__ as tags."""

import socket

from tailcar_harness import pipeline_yaml, read_records, wait_until


def test_each_file_gets_its_path_topic_and_every_record_the_env_tags_and_hostname(workdir, tailcars, monkeypatch):
    monkeypatch.setenv("ALIYUN_LOG_ENV_TAGS", "_pod_name_|_absent_")
    monkeypatch.setenv("_pod_name_", "web-1")
    monkeypatch.delenv("_absent_", raising=False)
    out = workdir / "out.jsonl"
    for app in ("cart", "login"):
        (workdir / "logs" / app).mkdir()
    config = ("global: {TopicType: filepath, TopicFormat: '.*/logs/(\\w+)/app\\.log'}\n"
              + pipeline_yaml([workdir / "logs/*/app.log"], out))
    (workdir / "logs/cart/app.log").write_bytes(b"added to cart\n")  # there at start
    tc = tailcars(workdir, config).started()
    (workdir / "logs/login/app.log.1").write_bytes(b"not matched by the glob\n")
    (workdir / "logs/login/app.log").write_bytes(b"logged in\n")
    wait_until(lambda: len(read_records(out)) == 2, what="both records")
    assert tc.stop() == 0
    records = {r["content"]: r for r in read_records(out)}
    assert records["added to cart"]["__topic__"] == "cart"
    assert records["logged in"]["__topic__"] == "login"
    for record in records.values():
        assert record["__tag__:_pod_name_"] == "web-1"
        assert record["__tag__:__hostname__"] == socket.gethostname()
        assert "__tag__:_absent_" not in record
