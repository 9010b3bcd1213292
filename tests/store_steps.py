"""Steps for session-store tests: what a turn does to the stored data."""

from __future__ import annotations

from typing import Any


def increment(data: dict[str, Any] | None) -> tuple[dict[str, Any], int]:
    count = (data or {}).get("count", 0) + 1
    return {"count": count}, count


def put(value: dict[str, Any]) -> Any:
    def step(_data: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        return value, None
    return step


def broken(_data: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
    raise LookupError("engine bug")
