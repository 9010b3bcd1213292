"""Private Dovecot and Postfix instances for the tests, on loopback and free ports.

Each instance lives in its own temporary folder (configuration, runtime sockets,
queue, logs) and is started and stopped by the fixtures; nothing of the machine's own
mail setup is used or touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.check.pki import VARIANTS, Pki, host_of

LOOPBACK = "127.0.0.1"
_START_WAIT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_ports(ports: list[int], log: Path, process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + _START_WAIT
    for port in ports:
        while True:
            try:
                socket.create_connection((LOOPBACK, port), timeout=1).close()
                break
            except OSError:
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"the server exited: {_tail(log)}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} never opened: {_tail(log)}") from None
                time.sleep(0.05)


def wait_or_kill(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a server told to stop; kill it if it has not gone within `timeout`."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def shared_folder(prefix: str) -> Path:
    # The daemons drop privileges to their own users, who must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


@dataclass(frozen=True)
class Dovecot:
    imap: int
    imaps: int
    pop3: int
    pop3s: int
    auth_socket: Path


def _dovecot_config(folder: Path, pki: Pki, ports: dict[str, int]) -> str:
    lines = [
        f"base_dir = {folder}/run",
        f"state_dir = {folder}/state",
        f"instance_name = mailhelp-test-{folder.name}",
        "protocols = imap pop3",
        f"listen = {LOOPBACK}",
        f"log_path = {folder}/dovecot.log",
        "ssl = yes",
        f"ssl_cert = <{pki.default.chain}",
        f"ssl_key = <{pki.default.key}",
        # Plain-text login only over TLS, except from "secure" peers: Dovecot counts
        # connections from the server's own address (127.0.0.1 here) as secure.
        "disable_plaintext_auth = yes",
        "auth_mechanisms = plain login",
        "default_internal_user = dovecot",
        "default_login_user = dovenull",
        "passdb {\n  driver = static\n  args = password=never-sent-by-the-check\n}",
        f"userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={folder}/home\n}}",
        "service auth {\n  unix_listener auth-postfix {\n    mode = 0666\n  }\n}",
        "service imap-login {",
        f"  inet_listener imap {{\n    port = {ports['imap']}\n  }}",
        f"  inet_listener imaps {{\n    port = {ports['imaps']}\n    ssl = yes\n  }}",
        "}",
        "service pop3-login {",
        f"  inet_listener pop3 {{\n    port = {ports['pop3']}\n  }}",
        f"  inet_listener pop3s {{\n    port = {ports['pop3s']}\n    ssl = yes\n  }}",
        "}",
    ]
    # One certificate per server name: the check's SNI picks the defect under test.
    for variant in VARIANTS:
        cert = pki.certs[variant]
        lines.append(f"local_name {host_of(variant)} {{\n  ssl_cert = <{cert.chain}\n"
                     f"  ssl_key = <{cert.key}\n}}")
    return "\n".join(lines) + "\n"


@contextmanager
def running_dovecot(binary: str, pki: Pki) -> Iterator[Dovecot]:
    folder = shared_folder("mailhelp-dovecot-")
    for sub in ("run", "state", "home"):
        (folder / sub).mkdir()
    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    config = folder / "dovecot.conf"
    config.write_text(_dovecot_config(folder, pki, ports))
    log = folder / "dovecot.log"
    # The master forks into the background; it must not inherit pipes to wait on.
    subprocess.run([binary, "-c", str(config)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)
    try:
        wait_for_ports(list(ports.values()), log, None)
        yield Dovecot(**ports, auth_socket=folder / "run" / "auth-postfix")
    finally:
        if (folder / "run" / "master.pid").exists():
            subprocess.run([binary, "-c", str(config), "stop"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Postfix:
    starttls: int       # STARTTLS offered, login only after it (as on 587)
    implicit: int       # TLS from the first byte (as on 465)
    login_in_clear: int  # STARTTLS offered, but login offered before it too
    no_starttls: int    # no TLS at all


_MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


@contextmanager
def running_postfix(binary: str, pki: Pki, dovecot: Dovecot) -> Iterator[Postfix]:
    folder = shared_folder("mailhelp-postfix-")
    conf, queue, data = folder / "conf", folder / "queue", folder / "data"
    for sub in (conf, queue, data):
        sub.mkdir()
    os.chown(data, _uid("postfix"), -1)
    ports = Postfix(free_port(), free_port(), free_port(), free_port())
    log = folder / "postfix.log"
    (conf / "main.cf").write_text("\n".join([
        "compatibility_level = 3.6",
        f"queue_directory = {queue}",
        f"data_directory = {data}",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        f"inet_interfaces = {LOOPBACK}",
        "inet_protocols = ipv4",
        "myhostname = smtp.mail.test",
        "mydomain = mail.test",
        "mydestination =",
        f"maillog_file = {log}",
        f"maillog_file_prefixes = {folder}",
        f"smtpd_tls_chain_files = {pki.default.key}, {pki.default.chain}",
        "smtpd_tls_security_level = may",
        "smtpd_tls_auth_only = yes",
        "smtpd_sasl_type = dovecot",
        f"smtpd_sasl_path = {dovecot.auth_socket}",
        "smtpd_sasl_auth_enable = yes",
    ]) + "\n")
    (conf / "master.cf").write_text(
        f"{LOOPBACK}:{ports.starttls} inet n - n - - smtpd\n"
        f"{LOOPBACK}:{ports.implicit} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n"
        f"{LOOPBACK}:{ports.login_in_clear} inet n - n - - smtpd -o smtpd_tls_auth_only=no\n"
        f"{LOOPBACK}:{ports.no_starttls} inet n - n - - smtpd"
        " -o smtpd_tls_security_level=none -o smtpd_sasl_auth_enable=no\n"
        + _MASTER_SERVICES)
    subprocess.run([binary, "-c", str(conf), "check"], check=True, capture_output=True,
                   timeout=60)
    process = subprocess.Popen([binary, "-c", str(conf), "start-fg"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ports([ports.starttls, ports.implicit, ports.login_in_clear,
                        ports.no_starttls], log, process)
        yield ports
    finally:
        subprocess.run([binary, "-c", str(conf), "stop"], capture_output=True, timeout=60)
        wait_or_kill(process, 30)
        shutil.rmtree(folder, ignore_errors=True)


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid
