"""A private redis-server for the tests: loopback, a free port, a temporary folder, no disk.

tests/conftest.py offers it as the `redis_server` fixture.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.check.daemons import LOOPBACK, free_port, wait_for_ports, wait_or_kill


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str | None = None
    pid: int = 0  # the redis-server process, to freeze it (SIGSTOP) in a test

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}{LOOPBACK}:{self.port}/0"


@contextmanager
def running_redis(binary: str, *, port: int | None = None,
                  password: str | None = None) -> Iterator[RedisServer]:
    """A redis-server until the block ends; on `port` if given, else on a free one."""
    folder = Path(tempfile.mkdtemp(prefix="mailhelp-redis-"))
    port = port or free_port()
    log = folder / "redis.log"
    command = [binary, "--bind", LOOPBACK, "--port", str(port), "--dir", str(folder),
               "--logfile", str(log), "--save", "", "--appendonly", "no",
               "--daemonize", "no"]
    if password:
        command += ["--requirepass", password]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ports([port], log, process)
        yield RedisServer(port, password, process.pid)
    finally:
        process.terminate()
        wait_or_kill(process, 10)
        shutil.rmtree(folder, ignore_errors=True)
