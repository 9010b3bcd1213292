"""A real HTTPS server for autoconfig tests: a test CA certificate, honest and hostile answers.

It listens on zones.HTTPS (a loopback address of its own) and answers by the Host
name the test zones point at it: a good config file, a 50 MB document, an entity
bomb, a slow drip, redirects to 127.0.0.1 (by address and by a name), a redirect loop
a redirect to plain http and one to a path with spaces and non-ASCII letters.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from tests.dns.zones import HTTPS

HOSTS = ("autoconfig-only", "huge-xml", "entities", "drip", "redirect", "redirect-name",
         "redirect-loop", "redirect-http", "redirect-odd")
HUGE_BYTES = 50 * 1024 * 1024
DRIP_SECONDS = 30.0

GOOD_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="autoconfig-only.test">
    <domain>autoconfig-only.test</domain>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>127.0.0.1</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.autoconfig-only.test</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">
<hostname>&lol9;</hostname><port>993</port><socketType>SSL</socketType>
</incomingServer></emailProvider></clientConfig>
"""


@dataclass(frozen=True)
class AutoconfigServer:
    port: int
    ca_file: Path

    def url_template(self) -> str:
        """The autoconfig URL the discovery rules should try, on this server's port."""
        return f"https://autoconfig.{{domain}}:{self.port}/mail/config-v1.1.xml"


class _Handler(BaseHTTPRequestHandler):
    server_version = "autoconfig-test"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        host = self.headers.get("Host", "").split(":")[0]
        name = host.removeprefix("autoconfig.").removesuffix(".test")
        port = self.server.server_address[1]
        with suppress(OSError):
            if name == "autoconfig-only":
                self._send(200, GOOD_XML)
            elif name == "entities":
                self._send(200, ENTITY_BOMB)
            elif name == "huge-xml":
                self._huge()
            elif name == "drip":
                self._drip()
            elif name == "redirect":
                self._redirect(f"https://127.0.0.1:{port}/mail/config-v1.1.xml")
            elif name == "redirect-name":
                self._redirect(f"https://loopback-name.test:{port}/mail/config-v1.1.xml")
            elif name == "redirect-loop":
                self._redirect(self.path)
            elif name == "redirect-odd" and self.path == "/mail/config-v1.1.xml":
                self._redirect("/mail/config v1.1.xml?x=\u00fc\u00fc")
            elif name == "redirect-http":
                self._redirect(f"http://{host}:{port}/mail/config-v1.1.xml")
            else:
                self._send(404, b"not here")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _huge(self) -> None:
        # No Content-Length: the client must stop reading by itself.
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        chunk = b"<clientConfig>" + b"<x>padding</x>" * 4096
        sent = 0
        while sent < HUGE_BYTES:
            self.wfile.write(chunk)
            sent += len(chunk)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        deadline = time.monotonic() + DRIP_SECONDS
        while time.monotonic() < deadline:
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(0.1)


@contextmanager
def running_autoconfig_server(folder: Path) -> Iterator[AutoconfigServer]:
    ca = trustme.CA()
    ca_file = folder / "autoconfig-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf = ca.issue_cert(*(f"autoconfig.{h}.test" for h in HOSTS), "loopback-name.test",
                         "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    server = ThreadingHTTPServer((HTTPS, 0), _Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AutoconfigServer(server.server_address[1], ca_file)
    finally:
        server.shutdown()
        server.server_close()
