"""Which answer a typed message gives to a state's question with buttons.

A typed button label counts (with typos, in any of the three languages), and so does what
the message says: a slot a button would set ("айфон" for Apple Mail / iPhone, "3 days
ago" for the "when?" buttons), not knowing for a "Not sure" button, or yes or no for
buttons that say (or mean) yes or no.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.flows import State
from bot.kb import LANGS
from bot.slots import SlotReader, Slots, words_of

SURE = 90  # a label this close to the text is chosen before anything else
CLOSE = 80  # a label this close is chosen when nothing else fits
MIN_PART = 4  # characters a typed text needs to count as part of a label (and back)


@dataclass(frozen=True)
class Choice:
    """The button chosen (its index, None for a value between buttons), where it goes and
    what it sets."""

    index: int | None
    go: str
    values: dict[str, str | int]


def choose(state: State, text: str, slots: Slots, reader: SlotReader) -> Choice | None:
    """The answer the text gives to the state's buttons, or None."""
    scores = [_label_score(text, [b.label[lang] for lang in LANGS]) for b in state.buttons]
    best = max(range(len(scores)), key=lambda i: scores[i], default=None)
    if best is not None and scores[best] >= SURE:
        return _pressed(state, best)
    by_slot = _by_slot(state, slots)
    if by_slot is not None:
        return by_slot
    if slots.unsure:
        for i, button in enumerate(state.buttons):
            if reader.label_unsure(button.label["en"]):
                return _pressed(state, i)
    if slots.answer is not None:
        for i, button in enumerate(state.buttons):
            if reader.label_answer(button.label["en"]) == slots.answer:
                return _pressed(state, i)
        if slots.answer == "no":
            fallback = _no_fallback(state, reader)
            if fallback is not None:
                return _pressed(state, fallback)
    if best is not None and scores[best] >= CLOSE:
        return _pressed(state, best)
    return None


def known_answer(state: State, values: dict[str, str | int]) -> Choice | None:
    """The answer the conversation already holds for the state's buttons (a device, a
    protocol, a day named earlier), or None."""
    return _by_slot(state, Slots(), values)


def _by_slot(state: State, slots: Slots,
             values: dict[str, str | int] | None = None) -> Choice | None:
    have = slots.values() if values is None else values
    for key in dict.fromkeys(k for b in state.buttons for k in b.set):
        if key not in have:
            continue
        for i, button in enumerate(state.buttons):
            if button.set.get(key) == have[key]:
                return _pressed(state, i)
        targets = {b.go for b in state.buttons if key in b.set}
        if len(targets) == 1 and isinstance(have[key], int):  # a day between the buttons'
            return Choice(None, targets.pop(), {key: have[key]})
    return None


def _no_fallback(state: State, reader: SlotReader) -> int | None:
    """The button a "no" means where none says no: one offering something else, else the
    only way on that is not a yes ("Did you find them?" - "Search all folders"), else the
    hand-over to a person."""
    for i, button in enumerate(state.buttons):
        if reader.label_other(button.label["en"]):
            return i
    rest = [i for i, b in enumerate(state.buttons) if b.go not in ("menu", "back")
            and reader.label_answer(b.label["en"]) != "yes"]
    ways_on = [i for i in rest if state.buttons[i].go != "human"]
    if len(ways_on) == 1:
        return ways_on[0]
    return rest[0] if not ways_on and rest else None


def _pressed(state: State, index: int) -> Choice:
    button = state.buttons[index]
    return Choice(index, button.go, dict(button.set))


def _label_score(text: str, labels: list[str]) -> float:
    typed = " ".join(words_of(text)[1])
    best = 0.0
    for label in labels:
        name = " ".join(words_of(label)[1])
        if not typed or not name:
            continue
        score = fuzz.ratio(typed, name)
        padded_typed, padded_name = f" {typed} ", f" {name} "
        if len(typed) >= MIN_PART and padded_typed in padded_name:
            score = max(score, SURE)  # "imap" for "IMAP (recommended)"
        elif len(name) >= MIN_PART and padded_name in padded_typed:
            score = max(score, CLOSE + 5)  # "pop3 please" for "POP3"
        best = max(best, score)
    return best
