"""Deployment settings: environment variables (or a KEY=VALUE file), checked once at start.

SETTINGS is the one list of every setting, its default and its meaning; `mailhelp serve
--help` prints it, and load_config() turns it into a Config or a ConfigError that names
the variable.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting has a value mailhelp cannot use; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS = (
    Setting("MAILHELP_CONFIG", "", "a file of KEY=VALUE lines; the environment wins over it"),
    Setting("MAILHELP_KNOWLEDGE", "", "a knowledge folder to use instead of the shipped one"),
    Setting("MAILHELP_DATA", "~/.local/state/mailhelp",
            "folder for the sessions database and the unanswered-questions log"),
    Setting("MAILHELP_HOST", "127.0.0.1", "address the web server listens on"),
    Setting("MAILHELP_PORT", "8080", "port the web server listens on"),
    Setting("MAILHELP_HUMAN_CONTACT", "", "how to reach a person, shown when the bot cannot help"),
    Setting("MAILHELP_SESSION_DAYS", "30", "idle conversations are forgotten after this many days"),
    Setting("MAILHELP_REDIS_URL", "", "redis://host:port/db: keep sessions and rate limits in "
            "Redis, so several instances behind a load balancer share them"),
    Setting("MAILHELP_CORS_ORIGINS", "", "comma-separated origins (https://support.example.com) "
            "whose pages may embed the chat widget"),
    Setting("MAILHELP_AGENT_TOKEN", "", "if set, the agents' page and FAQ API need this token"),
    Setting("TELEGRAM_BOT_TOKEN", "", "if set, also run the Telegram bot (long polling)"),
    Setting("MAILHELP_TELEGRAM_AGENT_CHAT", "", "a Telegram chat id (the helpdesk's group, "
            "with the bot in it): each hand-over to a person from Telegram is posted there "
            "with the conversation so far, masked"),
    Setting("MAILHELP_PUBLIC_URL", "", "https URL this server is reached at; with a Telegram "
            "token, Telegram sends updates to a webhook here instead of long polling"),
    Setting("MAILHELP_WEBHOOK_SECRET", "", "the webhook's secret-token header (default: derived "
            "from the bot token, the same on every instance)"),
    Setting("MAILHELP_CHECK_ALLOW_PRIVATE", "0", "1 lets the live check reach private networks "
            "and any port: for tests and private deployments only"),
    Setting("MAILHELP_CHECK_RATE", "10/60", "live checks allowed per requester per seconds"),
    Setting("MAILHELP_CHECK_CONCURRENCY", "64", "connections all live checks may hold at once"),
    Setting("MAILHELP_RESOLVER", "", "HOST:PORT of the DNS server that settings discovery, "
            "the domain check and the live check ask (default: the system's resolvers)"),
    Setting("MAILHELP_DNSBL", "", "comma-separated DNS blocklist zones the domain check asks "
            "about the MX addresses (default: none, blocklist lookups off)"),
    Setting("MAILHELP_SESSION_RATE", "60/60", "new conversations allowed per requester per "
            "seconds"),
)
DEFAULTS = {s.name: s.default for s in SETTINGS}
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_SETTINGS = ("MAILHELP_REQUIRE_SERVERS",)  # the test suite's switch, not the server's


@dataclass(frozen=True)
class Config:
    data_dir: Path
    host: str
    port: int
    human_contact: str
    session_days: float
    redis_url: str
    cors_origins: tuple[str, ...]
    agent_token: str
    telegram_token: str
    telegram_agent_chat: int | None
    public_url: str
    webhook_secret: str
    check_allow_private: bool
    check_rate: tuple[int, float]  # checks, per seconds
    check_concurrency: int
    resolver: tuple[str, int] | None
    dnsbl: tuple[str, ...]
    session_rate: tuple[int, float]  # new conversations, per seconds

    @property
    def sessions_path(self) -> Path:
        return self.data_dir / "sessions.sqlite3"

    @property
    def gaps_path(self) -> Path:
        return self.data_dir / "unanswered.jsonl"


def settings_help() -> str:
    """Every setting with its default, for `--help`."""
    width = max(len(s.name) for s in SETTINGS)
    return "\n".join(f"  {s.name:{width}}  {s.help}" + (f" (default {s.default})" if s.default
                                                          else "") for s in SETTINGS)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments are skipped, quotes around values dropped."""
    values = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"MAILHELP_CONFIG: cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"MAILHELP_CONFIG: {path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load_config(env: dict[str, str] | None = None) -> Config:
    """The settings from env (default: the process environment), checked."""
    env = dict(os.environ) if env is None else env
    values = dict(DEFAULTS)
    if env.get("MAILHELP_CONFIG"):
        values.update(read_env_file(Path(env["MAILHELP_CONFIG"]).expanduser()))
    values.update({k: v for k, v in env.items()
                   if k.startswith("MAILHELP_") or k in DEFAULTS})
    for key in values:
        if key not in DEFAULTS and key not in _NOT_SETTINGS:
            raise ConfigError(f"{key} is not a mailhelp setting; see `mailhelp serve --help`")
    get = values.__getitem__
    public_url = get("MAILHELP_PUBLIC_URL").strip().rstrip("/")
    if public_url and urlsplit(public_url).scheme != "https":
        raise ConfigError(f"MAILHELP_PUBLIC_URL must be an https:// URL, got {public_url!r}")
    token = get("TELEGRAM_BOT_TOKEN").strip()
    secret = get("MAILHELP_WEBHOOK_SECRET").strip() or (
        hashlib.sha256(b"mailhelp-webhook:" + token.encode()).hexdigest()[:48] if token else "")
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError("MAILHELP_WEBHOOK_SECRET must be 1 to 256 of A-Z a-z 0-9 _ - "
                          "(what Telegram accepts)")
    redis_url = get("MAILHELP_REDIS_URL").strip()
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"MAILHELP_REDIS_URL must start with redis://, got {redis_url!r}")
    origins = tuple(o.strip().rstrip("/") for o in get("MAILHELP_CORS_ORIGINS").split(",")
                    if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ConfigError(f"MAILHELP_CORS_ORIGINS: {origin!r} is not an origin like "
                              "https://support.example.com")
    return Config(
        data_dir=Path(get("MAILHELP_DATA")).expanduser(),
        host=get("MAILHELP_HOST").strip(),
        port=int(_number("MAILHELP_PORT", get("MAILHELP_PORT"), int, 1, 65535)),
        human_contact=get("MAILHELP_HUMAN_CONTACT").strip(),
        session_days=_number("MAILHELP_SESSION_DAYS", get("MAILHELP_SESSION_DAYS"), float,
                             0.001, 3650),
        redis_url=redis_url,
        cors_origins=origins,
        agent_token=get("MAILHELP_AGENT_TOKEN").strip(),
        telegram_token=token,
        telegram_agent_chat=_chat_id(get("MAILHELP_TELEGRAM_AGENT_CHAT")),
        public_url=public_url,
        webhook_secret=secret,
        check_allow_private=_flag("MAILHELP_CHECK_ALLOW_PRIVATE",
                                  get("MAILHELP_CHECK_ALLOW_PRIVATE")),
        check_rate=_rate("MAILHELP_CHECK_RATE", get("MAILHELP_CHECK_RATE")),
        check_concurrency=int(_number("MAILHELP_CHECK_CONCURRENCY",
                                      get("MAILHELP_CHECK_CONCURRENCY"), int, 1, 10_000)),
        resolver=resolver_setting(get("MAILHELP_RESOLVER")),
        dnsbl=dnsbl_zones(get("MAILHELP_DNSBL")),
        session_rate=_rate("MAILHELP_SESSION_RATE", get("MAILHELP_SESSION_RATE")),
    )


def resolver_setting(text: str, name: str = "MAILHELP_RESOLVER") -> tuple[str, int] | None:
    """HOST:PORT of a DNS server, or None (the system's) when empty."""
    from bot.dnsclient import parse_resolver

    if not text.strip():
        return None
    try:
        return parse_resolver(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def dnsbl_zones(text: str, name: str = "MAILHELP_DNSBL") -> tuple[str, ...]:
    """Comma-separated DNS zone names; ConfigError (naming `name`) for anything else."""
    from bot.discover.found import valid_host

    zones = tuple(z.strip().lower().rstrip(".") for z in text.split(",") if z.strip())
    for zone in zones:
        if not valid_host(zone):
            raise ConfigError(f"{name}: {zone!r} is not a DNS zone name")
    return zones


def _number(name: str, text: str, kind: type[int] | type[float], low: float,
            high: float) -> int | float:
    try:
        value = kind(text.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _flag(name: str, text: str) -> bool:
    if text.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if text.strip().lower() in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {text!r}")


def _rate(name: str, text: str) -> tuple[int, float]:
    count, sep, seconds = text.partition("/")
    if not sep:
        raise ConfigError(f"{name} must look like 10/60, got {text!r}")
    return (int(_number(name, count, int, 1, 100_000)),
            float(_number(name, seconds, float, 1, 86_400)))


def _chat_id(text: str) -> int | None:
    """A Telegram chat id: a whole number, negative for groups; empty for none."""
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"-?\d{1,20}", text):
        raise ConfigError("MAILHELP_TELEGRAM_AGENT_CHAT must be a Telegram chat id (a whole "
                          f"number, negative for a group), got {text!r}")
    return int(text)
