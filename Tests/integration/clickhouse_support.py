"""A real ClickHouse server for flusher_clickhouse tests: Debian's clickhouse-server (18.16.1 on bookworm)
started as a plain process on free loopback ports with its data, config.xml and users.xml in a temporary
directory, and stopped (SIGTERM, then SIGKILL) at the end. `query()` talks to its HTTP interface."""

import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tailcar_harness import wait_until

SERVER = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"
USER, PASSWORD = "writer", "writer-s3cret"

CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>{dir}/server.log</log><errorlog>{dir}/error.log</errorlog></logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{http}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <path>{dir}/data/</path>
    <tmp_path>{dir}/tmp/</tmp_path>
    <format_schema_path>{dir}/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>5368709</mark_cache_size>
    <uncompressed_cache_size>5368709</uncompressed_cache_size>
    <max_concurrent_queries>20</max_concurrent_queries>
</yandex>
"""

USERS = """<?xml version="1.0"?>
<yandex>
    <profiles><default></default></profiles>
    <users>
        <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
        <{user}><password>{password}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></{user}>
    </users>
    <quotas><default></default></quotas>
</yandex>
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def available():
    return Path(SERVER).exists()


class ClickHouse:
    """One server; `restart()` brings it back on the same ports with the same data after `stop()`."""

    def __init__(self, directory):
        self.dir = Path(directory) / "clickhouse"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.http_port, tcp_port = free_port(), free_port()
        (self.dir / "config.xml").write_text(CONFIG.format(dir=self.dir, http=self.http_port, tcp=tcp_port))
        (self.dir / "users.xml").write_text(USERS.format(user=USER, password=PASSWORD))
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen([SERVER, f"--config-file={self.dir / 'config.xml'}"], cwd=self.dir,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, timeout=60, interval=0.2, what="clickhouse-server answering /ping")

    def ping(self):
        if self.process.poll() is not None:
            log = (self.dir / "error.log")
            raise AssertionError("clickhouse-server exited: " + (log.read_text()[-2000:] if log.exists() else "?"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/ping", timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def restart(self):
        self.stop()
        self.start()

    def query(self, sql):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/", data=sql.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read().decode("utf-8", "replace")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.http_port}"
