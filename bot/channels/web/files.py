"""The widget's script and the pages, served from one flat folder with types and cache headers.

Every file of the folder with a known type is at /NAME; the demo page is also at / and
the agents' page at /agent. Names are checked before they touch the file system, so
nothing outside the folder (dot files, subfolders, `..`) can be reached.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

DEFAULT_FOLDER = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[a-z0-9]{1,5}")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# Pages are revalidated every time, so a new release shows at once; scripts, styles and
# images are kept a few minutes (their URLs carry no version) and then revalidated.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"


class StaticFiles:
    """One folder's files, read on each request (they are small) and answered by ETag."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = (folder or DEFAULT_FOLDER).resolve()

    async def demo(self, request: Request) -> Response:
        return await self.serve(request, "demo.html")

    async def agent(self, request: Request) -> Response:
        return await self.serve(request, "agent.html")

    async def widget(self, request: Request) -> Response:
        return await self.serve(request, "widget.js")

    async def asset(self, request: Request) -> Response:
        return await self.serve(request, request.path_params["file"])

    async def serve(self, request: Request, name: str) -> Response:
        path = self.folder / name
        media_type = TYPES.get(path.suffix)
        if not NAME.fullmatch(name) or media_type is None:
            raise HTTPException(404)
        content = await run_in_threadpool(_read, path)
        if content is None:
            raise HTTPException(404)
        etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
        headers = {"etag": etag,
                   "cache-control": PAGE_CACHE if path.suffix == ".html" else ASSET_CACHE}
        if etag in _tags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(content, media_type=media_type, headers=headers)


def _read(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing or not a plain file."""
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",")]
