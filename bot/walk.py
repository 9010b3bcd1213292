"""Walking the flows: entering states (passing questions the conversation has already
answered), going back, the menu, and where a session stands."""

from __future__ import annotations

from bot.choice import Choice, known_answer
from bot.events import MAX_BACK, Reply, Session, Turn
from bot.flows import Flow, State
from bot.kb import Knowledge
from bot.render import Renderer

MAX_CHAIN = 12  # states entered in one turn through plain `next`: a guard against loops
SPECIAL = ("menu", "back", "human")


class Walker:
    def __init__(self, knowledge: Knowledge, render: Renderer) -> None:
        self.knowledge = knowledge
        self.render = render

    def go(self, session: Session, target: str, chosen: bool = False) -> Turn:
        """Enter a target, and every state it leads to by a plain `next`. Questions the
        conversation already has the answer to are passed, except the state a button
        (`chosen`) leads to: the person went there on purpose."""
        replies: list[Reply] = []
        visited: list[str] = []
        for step in range(MAX_CHAIN):
            if target in SPECIAL:
                replies.append(self.special(session, target))
                break
            position = self.resolve(session, target)
            if position is None:
                replies.append(self.render.menu(session))
                break
            flow, state = position
            session.flow, session.state = flow.id, state.name
            visited.append(f"{flow.id}.{state.name}")
            known = None if chosen and step == 0 else self.known(session, state)
            if known is not None:
                session.vars.update(known.values)
                target = known.go
                continue
            actions = self.render.state_actions(session, state)
            if state.next is None:
                replies.append(self.render.state(session, state, actions))
                break
            shown = self.render.state(session, state, actions, buttons=False)
            if shown.text or shown.actions:
                replies.append(shown)
            target = state.next
        if not replies:
            replies.append(self.render.menu(session))
        return Turn(session, tuple(replies), visited=tuple(visited))

    def known(self, session: Session, state: State) -> Choice | None:
        """The answer the conversation already holds for a state's question."""
        if state.ask == "address" and ("provider" in session.vars or "address" in session.vars):
            return Choice(None, self.address_branch(session, state), {})
        if state.ask == "date" and "days_ago" in session.vars:
            return Choice(None, state.branches["answered"], {})
        return None if state.ask else known_answer(state, session.vars)

    def address_branch(self, session: Session, state: State) -> str:
        """Where an address question leads for the provider the conversation knows: a
        closed service, or a provider that lets programs in only through its own sign-in
        page, has its own way when the flow gives one."""
        provider = self.render.provider(session)
        if provider is None:
            return state.branches["unknown"]
        if provider.closed and "closed" in state.branches:
            return state.branches["closed"]
        if provider.oauth_only and "oauth" in state.branches:
            return state.branches["oauth"]
        return state.branches["known"]

    def resolve(self, session: Session, target: str) -> tuple[Flow, State] | None:
        """The flow and state a target names, seen from where the session stands."""
        current = self.knowledge.flows.get(session.flow or "")
        if current is not None and target in current.states:
            return current, current.states[target]
        flow_id, _sep, name = target.partition(".")
        flow = self.knowledge.flows.get(flow_id)
        state = flow.states.get(name or flow.start) if flow else None
        return (flow, state) if flow and state else None

    def special(self, session: Session, target: str) -> Reply:
        """menu, back (to the last remembered state) or human."""
        if target == "human":
            return self.render.human(session)
        while target == "back" and session.back:
            flow_id, _sep, name = session.back.pop().partition(".")
            flow = self.knowledge.flows.get(flow_id)
            if flow and name in flow.states:
                session.flow, session.state = flow_id, name
                return self.render.state(session, flow.states[name])
        session.flow = session.state = None
        return self.render.menu(session)

    def current(self, session: Session) -> tuple[Reply, ...]:
        """Show again where the conversation stands (after a language change)."""
        state = self.state(session)
        return (self.render.menu(session) if state is None
                else self.render.state(session, state),)

    def state(self, session: Session) -> State | None:
        flow = self.knowledge.flows.get(session.flow or "")
        return flow.states.get(session.state or "") if flow else None

    def remember(self, session: Session) -> None:
        if session.flow and session.state:
            session.back = [*session.back, f"{session.flow}.{session.state}"][-MAX_BACK:]

    def button(self, value: str) -> tuple[Flow, State, int] | None:
        """The flow button a callback value names, wherever it was offered."""
        parts = value.split(".")
        # isascii: "²" and "①" are digits to isdigit() but not to int().
        if len(parts) != 3 or not (parts[2].isascii() and parts[2].isdigit()):
            return None
        flow = self.knowledge.flows.get(parts[0])
        state = flow.states.get(parts[1]) if flow else None
        index = int(parts[2])
        if flow is None or state is None or index >= len(state.buttons):
            return None
        return flow, state, index
