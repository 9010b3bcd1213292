"""An e-mail address is checked on its provider's servers from the knowledge base."""

from __future__ import annotations

from collections.abc import Sequence

from bot.check import CheckPolicy
from bot.check.plan import plan_check
from bot.check.providers import knowledge_servers
from bot.check.target import parse_target

# Stand-in DNS answers: planning never connects, so any public address will do.
PUBLIC = {"imap.gmail.com": ["142.250.1.108"], "pop.gmail.com": ["142.250.1.109"],
          "smtp.gmail.com": ["142.250.1.110", "2607:f8b0:4023::6c"]}


async def resolver(host: str) -> Sequence[str]:
    return PUBLIC[host]


def test_the_knowledge_base_gives_a_providers_servers() -> None:
    found = knowledge_servers("someone@gmail.com")
    assert found is not None
    assert {(s.protocol, s.host, s.port, s.security) for s in found} >= {
        ("imap", "imap.gmail.com", 993, "ssl"), ("smtp", "smtp.gmail.com", 465, "ssl")}
    assert knowledge_servers("someone@no-such-provider.example") is None


async def test_an_address_plans_its_providers_servers_on_every_address() -> None:
    plan = await plan_check(parse_target("Someone@GMail.com"), CheckPolicy(), resolver,
                            knowledge_servers)
    planned = {(e.protocol, e.tls, e.host, e.ip, e.port) for e in plan.endpoints}
    assert ("imap", "implicit", "imap.gmail.com", "142.250.1.108", 993) in planned
    assert ("smtp", "starttls", "smtp.gmail.com", "2607:f8b0:4023::6c", 587) in planned
    assert plan.unresolved == ()
