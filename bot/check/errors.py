"""Why a check was refused before any connection: a reason code and its details."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class CheckRefused(Exception):
    """The target may not or cannot be checked; nothing was sent anywhere.

    `code` names a refusal in messages.yaml; `params` fill its placeholders.
    """

    def __init__(self, code: str, **params: str) -> None:
        self.code = code
        self.params: Mapping[str, str] = MappingProxyType(dict(params))
        detail = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        super().__init__(f"{code}: {detail}" if detail else code)
