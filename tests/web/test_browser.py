"""The widget, the demo page and the agents' page in a real headless Chromium.

Debian's chromium, driven by Playwright through its executable path (no downloaded
browser). Each test gets a fresh browser context (empty storage) and its own live server
on loopback; the live check's stream is answered by the test, so nothing leaves the
machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.kb import load_knowledge
from tests.servers import need, need_binary

try:
    from playwright.sync_api import Browser, Locator, Page, Route, expect, sync_playwright
    HAVE_PLAYWRIGHT = True
except ImportError:  # the test dependency is missing: every test here skips (or fails in CI)
    HAVE_PLAYWRIGHT = False

STATIC = Path(__file__).resolve().parents[2] / "bot" / "channels" / "web" / "static"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
OPEN = "Open the mail help chat"
ERROR_553 = "553 5.7.1 Sender address rejected: not owned by auth user"
GREETING = "Hello! I help with e-mail"
SETTINGS_LINE = re.compile(r"IMAP\s+imap\.yandex\.ru\s+993\s+SSL/TLS")
HOSTILE = ("<img src=x onerror=window.__pwned=1>", "<script>window.__pwned=1</script>")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    need(HAVE_PLAYWRIGHT, "playwright is not installed (pip install playwright)")
    chromium = need_binary("chromium")
    with sync_playwright() as playwright:
        # launch() gives every run a fresh temporary profile (user-data dir).
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh context; a script error or a CSP violation fails the test."""
    context = browser.new_context(base_url=live_server, locale="en-US",
                                  viewport={"width": 1200, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert problems == []


def topic_title(topic: str, lang: str) -> str:
    return load_knowledge().topics[topic].title[lang]


def open_chat(page: Page) -> Locator:
    page.goto("/")
    page.get_by_role("button", name=OPEN).click()
    chat = page.get_by_role("dialog", name="Mail help")
    expect(chat).to_be_visible()
    return chat


def say(chat: Locator, text: str) -> None:
    box = chat.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def press(chat: Locator, label: str) -> None:
    """Click the live choice `label` (earlier replies' choices are disabled)."""
    chat.get_by_role("button", name=label, exact=True, disabled=False).click()


def stored(page: Page) -> dict[str, Any]:
    """What the widget keeps in localStorage for this server."""
    raw = page.evaluate("(key) => localStorage.getItem(key)",
                        "mailhelp-widget:" + page.evaluate("location.origin"))
    assert isinstance(raw, str)
    data = json.loads(raw)
    assert isinstance(data, dict)
    return data


def setup_yandex(chat: Locator) -> None:
    """The setup flow by clicking, up to the settings of an @yandex.ru address."""
    press(chat, "Set up a mail program")
    expect(chat).to_contain_text("Which e-mail address")
    say(chat, "ivan@yandex.ru")
    press(chat, "Outlook")
    press(chat, "IMAP (recommended)")
    expect(chat.locator(".msg.bot", has_text=SETTINGS_LINE)).to_be_visible()


def test_widget_is_small() -> None:
    assert (STATIC / "widget.js").stat().st_size < 25 * 1024


def test_setup_flow_and_a_pasted_error(page: Page) -> None:
    chat = open_chat(page)
    expect(chat).to_contain_text(GREETING)
    setup_yandex(chat)
    expect(chat.locator(".msg.user")).to_have_text(
        ["Set up a mail program", "ivan@yandex.ru", "Outlook", "IMAP (recommended)"])
    say(chat, ERROR_553)
    # the answer, then its dialog's "Did that help?"
    expect(chat.locator(".msg.bot", has_text=topic_title("sender-not-owned", "en"))
           ).to_be_visible()
    expect(chat.locator(".msg.bot").last).to_contain_text("Did that help?")
    expect(chat.get_by_role("button", name="Outlook", exact=True)).to_be_disabled()


def test_the_conversation_survives_a_reload(page: Page) -> None:
    chat = open_chat(page)
    press(chat, "Set up a mail program")
    say(chat, "ivan@yandex.ru")
    expect(chat.get_by_role("button", name="Outlook", exact=True)).to_be_enabled()
    session = stored(page)["session"]

    page.reload()
    chat = page.get_by_role("dialog", name="Mail help")
    expect(chat).to_be_visible()  # it was open, so it opens again
    expect(chat.locator(".msg.user")).to_have_text(["Set up a mail program", "ivan@yandex.ru"])
    # The server's side of the conversation goes on where it was: in the setup flow.
    press(chat, "Outlook")
    press(chat, "IMAP (recommended)")
    expect(chat.locator(".msg.bot", has_text=SETTINGS_LINE)).to_be_visible()
    expect(chat.get_by_text(GREETING)).to_have_count(1)
    assert stored(page)["session"] == session


def test_start_over(page: Page) -> None:
    chat = open_chat(page)
    setup_yandex(chat)
    session = stored(page)["session"]
    chat.get_by_role("button", name="Start over").click()
    expect(chat.locator(".msg.user")).to_have_count(0)
    expect(chat.get_by_role("button", name="Set up a mail program", disabled=False)).to_be_visible()
    assert stored(page)["session"] == session
    assert "imap.yandex.ru" not in json.dumps(stored(page))


def test_a_forgotten_session_is_replaced(page: Page) -> None:
    chat = open_chat(page)
    expect(chat).to_contain_text(GREETING)
    page.evaluate("""() => {
        const key = 'mailhelp-widget:' + location.origin;
        const data = JSON.parse(localStorage.getItem(key));
        data.session = 'AAAAAAAAAAAAAAAAAAAAAA';
        localStorage.setItem(key, JSON.stringify(data));
    }""")
    page.reload()
    chat = page.get_by_role("dialog", name="Mail help")
    say(chat, ERROR_553)
    # A new conversation greets again, and the typed text is answered in it.
    expect(chat.get_by_text(GREETING)).to_have_count(2)
    # the answer, then its dialog's "Did that help?"
    expect(chat.locator(".msg.bot", has_text=topic_title("sender-not-owned", "en"))
           ).to_be_visible()
    expect(chat.locator(".msg.bot").last).to_contain_text("Did that help?")
    assert stored(page)["session"] not in ("AAAAAAAAAAAAAAAAAAAAAA", None)


def test_markup_in_messages_stays_text(page: Page) -> None:
    chat = open_chat(page)
    for text in HOSTILE:
        replies = chat.locator(".msg.bot").count()
        say(chat, text)
        expect(chat.locator(".msg.user").last).to_have_text(text)
        expect(chat.locator(".msg.bot")).not_to_have_count(replies)
    page.reload()  # the transcript comes back from storage as text too
    # (the second reads as a password to the bot, so the widget did not keep it)
    expect(page.locator(".msg.user")).to_have_text([HOSTILE[0], "••••••"])
    assert page.locator("mailhelp-widget img, mailhelp-widget script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_a_password_is_not_kept(page: Page) -> None:
    chat = open_chat(page)
    say(chat, "Tr0ub4dor&3xyz")
    expect(chat.locator(".msg.bot").last).to_contain_text("That looks like a password")
    say(chat, "my password: hunter2, what now?")
    expect(chat.locator(".msg.user")).to_have_count(2)
    expect(chat.locator(".msg.bot").last).to_contain_text("That looks like a password")
    kept = json.dumps(stored(page), ensure_ascii=False)
    assert "Tr0ub4dor" not in kept and "hunter2" not in kept
    assert "my password: •••••• what now?" in kept


def test_keyboard_enter_escape_and_focus(page: Page) -> None:
    page.goto("/")
    bubble = page.get_by_role("button", name=OPEN)
    bubble.focus()
    page.keyboard.press("Enter")
    chat = page.get_by_role("dialog", name="Mail help")
    box = chat.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    expect(bubble).to_have_attribute("aria-expanded", "true")
    # The choices come before the text box in the tab order.
    last_choice = chat.get_by_role("button", name="Exchange server (admins)", exact=True)
    expect(last_choice).to_be_enabled()
    page.keyboard.press("Shift+Tab")
    expect(last_choice).to_be_focused()
    page.keyboard.press("Enter")
    expect(chat.locator(".msg.user").last).to_have_text("Exchange server (admins)")
    expect(box).to_be_focused()
    page.keyboard.type(ERROR_553)
    page.keyboard.press("Enter")
    expect(chat.locator(".msg.user").last).to_have_text(ERROR_553)
    expect(box).to_have_value("")
    page.keyboard.press("Escape")
    expect(chat).to_be_hidden()
    expect(bubble).to_be_focused()
    expect(bubble).to_have_attribute("aria-expanded", "false")


def test_the_panel_fills_a_phone_screen(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, locale="ru-RU",
                                  viewport={"width": 375, "height": 667})
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("button", name="Открыть чат помощи с почтой").click()
        chat = page.get_by_role("dialog", name="Помощь с почтой")
        expect(chat).to_contain_text("Здравствуйте")  # data-lang absent: the browser's language
        assert chat.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 667}
    finally:
        context.close()


def sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def endpoint(protocol: str, host: str, port: int, status: str) -> dict[str, Any]:
    return {"host": host, "ip": "192.0.2.10", "port": port, "protocol": protocol,
            "tls": "implicit", "status": status, "connect_ms": 23.4, "tls_version": "TLSv1.3",
            "problems": []}


def test_live_check_progress(page: Page) -> None:
    asked: list[dict[str, Any]] = []

    def answer(route: Route) -> None:
        asked.append({"body": route.request.post_data_json,
                      "accept": route.request.headers.get("accept")})
        findings = "Problems found:\n\nsmtp smtp.yandex.ru:465\n  ! The certificate expires soon."
        route.fulfill(status=200, content_type="text/event-stream", body="".join([
            sse("start", {"target": "ivan@yandex.ru", "total": 2, "text": "Checking"}),
            sse("endpoint", endpoint("imap", "imap.yandex.ru", 993, "ok")),
            sse("endpoint", endpoint("smtp", "smtp.yandex.ru", 465, "warning")),
            sse("summary", {"target": "ivan@yandex.ru", "status": "warning", "endpoints": [],
                            "text": findings}),
        ]))

    page.route("**/api/v1/check", answer)
    chat = open_chat(page)
    setup_yandex(chat)
    press(chat, "All entered")
    check = chat.locator(".check")
    expect(check.locator("li")).to_have_text([re.compile(r"imap imap\.yandex\.ru:993"),
                                              re.compile(r"smtp smtp\.yandex\.ru:465")])
    expect(check).to_contain_text("The certificate expires soon.")
    expect(check.locator(".verdict")).to_have_text("Problems found:")
    assert asked == [{"body": {"target": "ivan@yandex.ru", "lang": "en"},
                      "accept": "text/event-stream"}]
    # The check's result is part of the kept transcript.
    page.reload()
    expect(page.locator(".check .verdict")).to_have_text("Problems found:")


def test_agent_page_search(page: Page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/agent")
    page.get_by_label("Search").fill(ERROR_553 + " ivan@yandex.ru")
    best = page.locator(".result:not(.settings)").first
    expect(best.get_by_role("heading")).to_have_text(topic_title("sender-not-owned", "en"))
    expect(best.locator(".steps li").first).to_contain_text("smtp.yandex.ru")
    expect(page.locator(".settings")).to_contain_text("imap.yandex.ru")

    page.get_by_label("Answer language").select_option("ru")
    expect(best.get_by_role("heading")).to_have_text(topic_title("sender-not-owned", "ru"))
    expect(best.locator(".steps li").first).to_contain_text("Яндекс")
    title = topic_title("sender-not-owned", "ru")
    best.get_by_role("button", name="Copy answer").click()
    page.wait_for_function("(title) => navigator.clipboard.readText().then("
                           "(text) => text.startsWith(title))", arg=title)
    pasted = page.evaluate("navigator.clipboard.readText()")
    assert pasted.startswith(title + "\n\n1. Яндекс")
    assert re.search(r"IMAP\s+imap\.yandex\.ru\s+993\s+SSL/TLS", pasted)


def test_agent_page_asks_for_the_token(page: Page) -> None:
    """A 401 shows the token field; the token then goes as a Bearer header."""
    seen: list[str | None] = []

    def guard(route: Route) -> None:
        offered = route.request.headers.get("authorization")
        seen.append(offered)
        if offered != "Bearer s3cret":
            route.fulfill(status=401, json={"error": "unauthorized", "message": "token"})
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/(faq|topics/)"), guard)
    page.goto("/agent")
    page.get_by_label("Search").fill(ERROR_553)
    token = page.get_by_label("Access token")
    expect(token).to_be_visible()
    token.fill("s3cret")
    page.get_by_role("button", name="Use token").click()
    expect(page.locator(".result h2").first).to_have_text(topic_title("sender-not-owned", "en"))
    expect(token).to_be_hidden()
    assert seen[0] is None and seen[-1] == "Bearer s3cret"


def test_on_another_site_under_its_strict_csp(page: Page, live_server: str,
                                              web_config: Config) -> None:
    """An allowed site embeds the widget: its CSP forbids inline styles, its CSS is hostile."""
    site_origin = web_config.cors_origins[0]
    host_page = (f'<!doctype html><html lang="en"><head><link rel="stylesheet" href="/site.css">'
                 f'</head><body><h1>Shop</h1><script src="{live_server}/widget.js" '
                 f'data-lang="it" async></script></body></html>')
    hostile_css = "* { color: red !important; font-size: 40px !important; } " \
                  "button { display: none !important; } div { display: none !important; }"
    policy = (f"default-src 'none'; style-src 'self'; script-src {live_server}; "
              f"connect-src {live_server}")

    def site(route: Route) -> None:
        if route.request.url.endswith("/site.css"):
            route.fulfill(content_type="text/css", body=hostile_css)
        else:
            route.fulfill(content_type="text/html", body=host_page,
                          headers={"Content-Security-Policy": policy})

    # The test server is on loopback, which a public site may reach only with this grant.
    page.context.grant_permissions(["local-network-access"])
    page.route(site_origin + "/**", site)
    page.goto(site_origin + "/")
    bubble = page.get_by_role("button", name="Apri la chat di aiuto per la posta")
    expect(bubble).to_have_css("background-color", "rgb(26, 95, 180)")
    bubble.click()
    chat = page.get_by_role("dialog", name="Aiuto posta")
    expect(chat).to_contain_text("Ciao")
    expect(chat.get_by_role("button", name="Invia")).to_have_css("font-size", "15px")
