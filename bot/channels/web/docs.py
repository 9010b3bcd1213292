"""The API's description: openapi.yaml beside this file, served as JSON and as a plain page.

The schema is data, written by hand and loaded once; the page is rendered here from it,
with no script, so it works offline and under the strict Content-Security-Policy.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import yaml

SCHEMA_FILE = Path(__file__).resolve().parent / "openapi.yaml"
WEBHOOK_PATH = "/telegram/webhook"  # as the schema file writes it
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def _loaded() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    return data


def schema_for(webhook_path: str | None) -> dict[str, Any]:
    """The schema of an app: the webhook at its configured path, or absent without one."""
    schema = copy.deepcopy(_loaded())
    webhook = schema["paths"].pop(WEBHOOK_PATH)
    if webhook_path is not None:
        schema["paths"][webhook_path] = webhook
    return schema


def schema_json(schema: dict[str, Any]) -> bytes:
    return json.dumps(schema, ensure_ascii=False, indent=1).encode("utf-8")


def docs_page(schema: dict[str, Any]) -> str:
    """The schema as a page a person reads: each operation with its summary and description."""
    info = schema["info"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(info['title'])} API</title></head><body>",
        f"<h1>{escape(info['title'])} API, version {escape(str(info['version']))}</h1>",
        f"<p>{escape(info['description'])}</p>",
        '<p>The machine-readable description: <a href="/openapi.json">/openapi.json</a> '
        "(OpenAPI 3.1).</p>",
    ]
    for path, operations in schema["paths"].items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            parts.append(f"<h2><code>{method.upper()} {escape(path)}</code></h2>")
            parts.append(f"<p><strong>{escape(operation['summary'])}</strong></p>")
            if "description" in operation:
                parts.append(f"<p>{escape(operation['description'])}</p>")
            statuses = ", ".join(escape(str(code)) for code in operation["responses"])
            parts.append(f"<p>Answers: {statuses}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
