"""How the engine's replies look: a flow state, a topic, the computed blocks (settings,
reminders, retention dates, the live check), the menu and the hand-over to a person."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from babel.dates import format_date

from bot.answer import provider_notes, provider_settings, render_settings, render_topic
from bot.events import Action, Button, EngineSettings, Reply, Session
from bot.flows import State, callback_data
from bot.i18n import translations
from bot.kb import Knowledge, Provider

LOCALES = {"en": "en_GB", "ru": "ru_RU", "it": "it_IT"}


class Renderer:
    def __init__(self, knowledge: Knowledge, settings: EngineSettings) -> None:
        self.knowledge = knowledge
        self.settings = settings

    def provider(self, session: Session) -> Provider | None:
        return self.knowledge.providers.get(str(session.vars.get("provider", "")))

    def state(self, session: Session, state: State, actions: tuple[Action, ...] = (),
              buttons: bool = True) -> Reply:
        _ = self._(session)
        lang = session.language
        provider = self.provider(session)
        parts = []
        if state.say:
            parts.append(state.say[lang].format(
                address=session.vars.get("address") or _("your address"),
                provider=provider.name if provider else "?"))
        if state.topic:
            parts.append(render_topic(self.knowledge.topics[state.topic], lang, provider))
        if state.show:
            parts.append(self._block(session, state.show, provider))
        shown: tuple[Button, ...] = ()
        if buttons:
            if state.ask == "address" and "address" in session.vars:
                shown += (Button(str(session.vars["address"]), "use:address"),)
            shown += tuple(Button(b.label[lang], callback_data(session.flow or "", state.name, i))
                           for i, b in enumerate(state.buttons))
            has_menu = any(b.go == "menu" for b in state.buttons)
            shown += tuple(b for b in self.nav(session) if not (has_menu and b.value == "menu"))
        return Reply("\n\n".join(p for p in parts if p), shown, actions)

    def state_actions(self, session: Session, state: State) -> tuple[Action, ...]:
        """What a state asks the channel to run. `show: check`: the live check of the
        address (the channel finds its servers, discovering those of an unknown provider),
        with no address the provider's incoming server. `show: settings` of an address
        whose provider is unknown: discovery."""
        address = str(session.vars.get("address", ""))
        provider = self.provider(session)
        if state.show == "settings" and address and provider is None:
            return (Action("discover", address, session.language),)
        if state.show != "check":
            return ()
        if address:
            target = address
        elif provider and provider.servers:
            target = provider.servers[0].host
        else:
            return ()
        return (Action("check", target, session.language),)

    def _block(self, session: Session, block: str, provider: Provider | None) -> str:
        _ = self._(session)
        lang = session.language
        if block == "settings":
            if provider is None and "address" in session.vars:
                return _("I am looking up the mail settings of {domain} on the internet: its "
                         "DNS records and its setup file. It needs no password.").format(
                    domain=str(session.vars["address"]).rpartition("@")[2])
            if provider is None:
                return _("I do not know the servers of this provider. Look for 'IMAP/SMTP "
                         "settings' in its help pages, or ask its support.")
            protocol = str(session.vars.get("protocol", "imap"))
            settings = provider_settings(provider, str(session.vars.get("address", "")))
            servers = tuple(s for s in settings.servers if s.protocol in (protocol, "smtp"))
            return render_settings(replace(settings, servers=servers), lang, with_notes=False)
        if block == "notes":
            if provider is None:
                return _("Check in your mailbox's web settings that access for mail "
                         "programs (IMAP/POP3) is switched on.")
            return "\n".join(f"- {note}" for note in provider_notes(provider, lang))
        if block == "retention":
            return self._retention(session, provider)
        # check
        if "address" in session.vars:
            return _("I am checking the mail servers for {address}: whether they answer "
                     "and what their encryption looks like. It needs no password.").format(
                address=session.vars["address"])
        return self.check_prompt(session)

    def check_prompt(self, session: Session) -> str:
        _ = self._(session)
        return _("Send me a server name (for example imap.example.com) and I will check "
                 "whether it answers and what its encryption looks like. It needs no "
                 "password.")

    def _retention(self, session: Session, provider: Provider | None) -> str:
        catalog = translations(session.language)
        _ = catalog.gettext
        days = session.vars.get("days_ago")
        if provider is None or provider.trash_days is None:
            name = provider.name if provider else _("your provider")
            return _("I do not know how long {provider} keeps deleted letters. Look in the "
                     "Deleted (Trash) folder as soon as you can.").format(provider=name)
        if not isinstance(days, int):
            return catalog.ngettext(
                "{name} keeps deleted letters for {days} day.",
                "{name} keeps deleted letters for {days} days.", provider.trash_days,
            ).format(name=provider.name, days=provider.trash_days)
        today = self.settings.today()
        until = today - timedelta(days=days) + timedelta(days=provider.trash_days)
        # no "г." before a full stop
        when = format_date(until, format="d MMMM y", locale=LOCALES[session.language])
        left = (until - today).days
        if left >= 0:
            return catalog.ngettext(
                "They can still be restored until {date}: {days} day left.",
                "They can still be restored until {date}: {days} days left.", left,
            ).format(date=when, days=left)
        return catalog.ngettext(
            "{name} keeps deleted letters {days} day, so they were erased on {date}. They "
            "cannot be restored from the Deleted folder any more.",
            "{name} keeps deleted letters {days} days, so they were erased on {date}. They "
            "cannot be restored from the Deleted folder any more.", provider.trash_days,
        ).format(name=provider.name, days=provider.trash_days, date=when)

    def topic(self, session: Session, topic_id: str, provider: Provider | None,
              buttons: tuple[Button, ...] = ()) -> Reply:
        lang = session.language
        topic = self.knowledge.topics[topic_id]
        parts = [render_topic(topic, lang, provider)]
        if provider and topic_id == "provider-settings":
            parts.append(render_settings(provider_settings(provider), lang))
        return Reply("\n\n".join(parts), buttons)

    def topic_buttons(self, session: Session, topic_ids: list[str]) -> tuple[Button, ...]:
        lang = session.language
        return tuple(Button(self.knowledge.topics[t].title[lang], f"topic:{t}")
                     for t in topic_ids if t in self.knowledge.topics)

    def address(self, session: Session, provider: Provider) -> Reply:
        """A bare address: its provider's settings, the live check and the setup dialog."""
        _ = self._(session)
        settings = provider_settings(provider, str(session.vars.get("address", "")))
        buttons = (Button(_("Check these servers now"), "check:address"),
                   Button(_("Set up a mail program step by step"), "flow:setup"))
        return Reply(render_settings(settings, session.language), buttons + self.nav(session))

    def helped(self, session: Session) -> Reply:
        """The engine's own "Did that help?" after a topic's answer."""
        _ = self._(session)
        return Reply(_("Did that help?"), (
            Button(_("Yes, thanks"), "helped:yes"), Button(_("No"), "helped:no"),
            Button(_("Talk to a person"), "human"), *self.nav(session)))

    def menu(self, session: Session) -> Reply:
        _ = self._(session)
        lang = session.language
        buttons = tuple(Button(flow.title[lang], f"flow:{flow.id}")
                        for flow in self.knowledge.flows.values())
        return Reply(_("What do you need help with?"), buttons)

    def nav(self, session: Session) -> tuple[Button, ...]:
        _ = self._(session)
        back = (Button(_("◀ Back"), "back"),) if session.back else ()
        return (*back, Button(_("Menu"), "menu"))

    def human(self, session: Session) -> Reply:
        """The hand-over: how to reach a person, and the conversation for that person."""
        _ = self._(session)
        contact = self.settings.human_contact
        text = (_("A person can help you further: {contact}").format(contact=contact)
                if contact else _("Please contact your helpdesk or your mail provider's "
                                  "support; tell them what you tried here."))
        return Reply(text, (Button(_("Menu"), "menu"),),
                     (Action("human", contact, session.language, tuple(session.log)),))

    def help(self, session: Session) -> str:
        _ = self._(session)
        return _("Type a question or paste the error message your program shows, in "
                 "English, Russian or Italian, or press a button. Commands: /menu the "
                 "topics, /back one step back, /language choose the language, /check "
                 "SERVER test a mail server, /start begin again. Never send your password: "
                 "I never need it.")

    def _(self, session: Session) -> Callable[[str], str]:
        return translations(session.language).gettext
