"""Which dialog a typed question starts: knowledge/tasks.yaml, checked against the flows.

A question that matches a listed topic starts that topic's dialog (at the state given)
instead of showing only the topic's text; a question with setup words starts the setup
dialog, and one about deleting letters (saying when) the deleted-letters dialog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.kb import Knowledge


@dataclass(frozen=True)
class Tasks:
    by_topic: Mapping[str, str]  # topic id -> "FLOW" or "FLOW.STATE"
    setup: str
    deleted: str

    @classmethod
    def load(cls, knowledge: Knowledge, root: Path | None = None) -> Tasks:
        """The tasks file; ValueError naming what is wrong when it does not fit the
        knowledge (an unknown topic, flow or state)."""
        path = (root or knowledge.root) / "tasks.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("topics"), dict):
            raise ValueError(f"{path}: needs a 'topics' mapping, 'setup' and 'deleted' targets")
        tasks = cls({str(k): str(v) for k, v in data["topics"].items()},
                    str(data.get("setup")), str(data.get("deleted")))
        for topic, target in [*tasks.by_topic.items(), ("", tasks.setup), ("", tasks.deleted)]:
            if topic and topic not in knowledge.topics:
                raise ValueError(f"{path}: unknown topic '{topic}'")
            flow_id, _sep, state = target.partition(".")
            flow = knowledge.flows.get(flow_id)
            if flow is None or (state and state not in flow.states):
                raise ValueError(f"{path}: '{target}' is not a flow or FLOW.STATE")
        return tasks
