"""The `mailhelp` command as a person and a script use it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from bot import kb
from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return int(done.value.code or 0), capsys.readouterr().out


def test_faq_prints_steps_in_the_query_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "faq", "как восстановить удаленные письма на яндексе")
    assert code == 0
    assert "1. " in out and "2. " in out
    assert "30" in out and "дней" in out  # Yandex keeps deleted letters 30 days, plural right


def test_faq_lang_flag_and_provider_settings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "faq", "--lang", "it", "yandex imap server settings")
    assert code == 0
    assert "imap.yandex.ru" in out and "993" in out


def test_faq_settings_of_a_provider_without_domains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "faq", "exchange imap server settings")
    assert code == 0
    assert "mail.{domain}" in out and "993" in out


def test_faq_without_answer_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "faq", "what's the weather in Rome")
    assert code == 1
    assert "no confident answer" in out


def test_faq_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "faq", "--json", "-n", "1", "what port does smtp.mail.ru use")
    data = json.loads(out)
    assert code == 0
    assert data["query"] == "what port does smtp.mail.ru use"
    assert data["lang"] == "en"
    assert len(data["matches"]) == 1
    assert data["matches"][0] == {"id": "provider-settings",
                                  "score": data["matches"][0]["score"], "provider": "mailru"}


def test_settings_json_for_an_address(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "settings", "--json", "ivan@inbox.ru")
    data = json.loads(out)
    assert code == 0
    assert data["provider"] == "mailru" and data["username"] == "ivan@inbox.ru"
    protocols = [s["protocol"] for s in data["servers"]]
    assert set(protocols) == {"imap", "pop3", "smtp"}
    assert data["servers"][protocols.index("imap")]["port"] == 993
    assert data["notes"]


def test_settings_unknown_domain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "settings", "--json", "someone@unknown-domain.example")
    data = json.loads(out)
    assert code == 1
    assert data["provider"] is None and data["servers"] == []
    code, out = run(capsys, "settings", "someone@unknown-domain.example")
    assert code == 1 and "mailhelp check unknown-domain.example" in out


def test_kb_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "kb", "list", "--json")
    rows = json.loads(out)
    assert code == 0
    assert {"id": "login-failed", "kind": "error", "languages": ["en", "it", "ru"]} in rows


def test_kb_lint_reports_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "providers").mkdir()
    (tmp_path / "topics").mkdir()
    (tmp_path / "providers" / "x.yaml").write_text("id: x\nname: X\n", encoding="utf-8")
    code, out = run(capsys, "kb", "lint", "--root", str(tmp_path))
    assert code == 1
    assert "providers/x.yaml:1: missing 'domains'" in out
    assert "topics/:1: no topics found" in out


@pytest.mark.parametrize(("name", "edit", "said"), [
    ("tasks.yaml", ("deleted-recovery: recovery.del_addr", "deleted-recovery: recovery.gone"),
     "'recovery.gone' is not a flow or FLOW.STATE"),
    ("slots.yaml", ("\ndevices:", "\nno_devices:"), "slots.yaml is malformed"),
])
def test_kb_lint_checks_the_engines_words_and_tasks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
        edit: tuple[str, str], said: str) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(kb.default_root(), root)
    path = root / name
    path.write_text(path.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    code, out = run(capsys, "kb", "lint", "--root", str(root))
    assert code == 1 and said in out


def test_the_wheel_ships_knowledge_and_catalogs(tmp_path: Path) -> None:
    """`pip install .` gives a working command from any folder: the data is inside the wheel."""
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                        str(tmp_path), str(ROOT)], check=True, timeout=300,
                       capture_output=True)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"building the wheel failed: {exc.stderr.decode()[-2000:]}")
    wheel = next(tmp_path.glob("mailhelp-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    assert "bot/knowledge/topics/login-failed.yaml" in names
    assert "bot/knowledge/language.yaml" in names
    assert "bot/locales/ru/LC_MESSAGES/mailhelp.po" in names
    assert "bot/channels/web/openapi.yaml" in names
    assert "bot/channels/web/static/widget.js" in names
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin",
           "MAILHELP_DATA": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "faq", "--lang", "ru",
         "0x800CCC0E"],
        cwd=elsewhere, env=env, capture_output=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "1. " in proc.stdout.decode()
    proc = subprocess.run([sys.executable, "-c", SERVE_FROM_THE_WHEEL], cwd=elsewhere, env=env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().split() == [str(tmp_path / "site" / "bot"), "200", "200", "200"]


# The installed web app serves its pages and its schema from inside the package.
SERVE_FROM_THE_WHEEL = """
from pathlib import Path
from starlette.testclient import TestClient
import bot
from bot.channels.web.app import create_app
from bot.check import CheckLimiter, CheckPolicy
from bot.config import load_config
from bot.conversation import from_config
config = load_config()
policy = CheckPolicy()
app = create_app(config, from_config(config), limiter=CheckLimiter(policy), policy=policy)
with TestClient(app) as client:
    print(Path(bot.__file__).parent, *(client.get(path).status_code
                                       for path in ("/widget.js", "/", "/openapi.json")))
"""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--version")
    assert code == 0 and out.strip() == f"mailhelp {metadata.version('mailhelp')}"


@pytest.mark.parametrize("command", [
    ["faq"], ["settings"], ["kb"], ["kb", "lint"], ["kb", "list"], ["kb", "diagram"],
    ["kb", "gaps"], ["chat"], ["serve"], ["check"], [],
])
def test_every_command_lists_its_exit_statuses(capsys: pytest.CaptureFixture[str],
                                               command: list[str]) -> None:
    code, out = run(capsys, *command, "--help")
    assert code == 0
    listed = " ".join(out.split()).partition("exit status: ")[2]
    assert listed.startswith("0 ") and "; 2 " in listed, out


def test_serve_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["serve", "--port", "70000"])
    assert done.value.code == 2
    assert "port number from 1 to 65535" in capsys.readouterr().err
