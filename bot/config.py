"""Deployment settings, read from environment variables and checked once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value mailhelp cannot use; the message names the variable."""


@dataclass(frozen=True)
class Config:
    data_dir: Path  # sessions and the unanswered-questions log live here
    human_contact: str  # how to reach a person, shown when the bot cannot help
    session_days: float  # idle conversations are forgotten after this many days

    @property
    def sessions_path(self) -> Path:
        return self.data_dir / "sessions.sqlite3"

    @property
    def gaps_path(self) -> Path:
        return self.data_dir / "unanswered.jsonl"


def load_config(env: dict[str, str] | None = None) -> Config:
    """MAILHELP_DATA (default ~/.local/state/mailhelp), MAILHELP_HUMAN_CONTACT,
    MAILHELP_SESSION_DAYS (default 30)."""
    env = dict(os.environ) if env is None else env
    default_data = Path.home() / ".local" / "state" / "mailhelp"
    days_text = env.get("MAILHELP_SESSION_DAYS", "30")
    try:
        days = float(days_text)
    except ValueError:
        raise ConfigError(
            f"MAILHELP_SESSION_DAYS must be a number of days, got {days_text!r}") from None
    if not 0 < days <= 3650:
        raise ConfigError(f"MAILHELP_SESSION_DAYS must be between 0 and 3650, got {days:g}")
    return Config(
        data_dir=Path(env.get("MAILHELP_DATA") or default_data).expanduser(),
        human_contact=env.get("MAILHELP_HUMAN_CONTACT", "").strip(),
        session_days=days,
    )
