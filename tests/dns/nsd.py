"""A private NSD (authoritative DNS server) for the tests: loopback, a free port, test zones.

The zones are text (tests/dns/zones.py); NSD serves them over UDP and TCP, so large
answers take the real truncate-and-retry-over-TCP path.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.check.daemons import LOOPBACK, free_port, wait_for_ports, wait_or_kill


@dataclass(frozen=True)
class DnsServer:
    port: int

    @property
    def address(self) -> str:
        """The --resolver / MAILHELP_RESOLVER value that points at this server."""
        return f"{LOOPBACK}:{self.port}"


@contextmanager
def running_nsd(binary: str, zones: Mapping[str, str]) -> Iterator[DnsServer]:
    """NSD serving `zones` (origin -> zone file text) until the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="mailhelp-nsd-"))
    port = free_port()
    config = [
        "server:",
        f"  ip-address: {LOOPBACK}",
        f"  port: {port}",
        '  username: ""',
        '  chroot: ""',
        f'  zonesdir: "{folder}"',
        f'  pidfile: "{folder}/nsd.pid"',
        f'  xfrdfile: "{folder}/xfrd.state"',
        f'  zonelistfile: "{folder}/zone.list"',
        f'  xfrdir: "{folder}"',
        f'  logfile: "{folder}/nsd.log"',
        "  server-count: 1",
        "  verbosity: 1",
        "  hide-version: yes",
        # No response rate limiting: every test and benchmark question gets its answer.
        "  rrl-ratelimit: 0",
        "remote-control:",
        "  control-enable: no",
    ]
    for origin, text in zones.items():
        (folder / f"{origin}.zone").write_text(text)
        config += ["zone:", f"  name: {origin}", f"  zonefile: {origin}.zone"]
    (folder / "nsd.conf").write_text("\n".join(config) + "\n")
    log = folder / "nsd.log"
    process = subprocess.Popen([binary, "-d", "-c", str(folder / "nsd.conf")],
                               stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    try:
        wait_for_ports([port], log, process)
        yield DnsServer(port)
    finally:
        process.terminate()
        wait_or_kill(process, 10)
        shutil.rmtree(folder, ignore_errors=True)
