"""Training the matcher's model from the knowledge base, and caching it by content hash.

Every topic's titles, patterns, printed messages and reply codes are examples of that
topic; knowledge/out-of-scope.yaml gives examples of the class "not ours". Each example
is also learned wrapped in context (greetings, devices, dates: knowledge/language.yaml),
so the model learns that such words say nothing. The trained model is kept in a cache
file named by the hash of the knowledge files and of this package's code: an editor's
change takes effect on the next start, with no extra step.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.kb import Knowledge
from bot.match.detect import Detector, Words
from bot.match.features import read, unit
from bot.match.model import SoftmaxModel, SparseRows
from bot.match.text import WORD, normalize

OUT_OF_SCOPE = "out-of-scope"  # the extra class after the topics
WRAPPED_COPIES = 1  # each example is learned alone and this many times wrapped in context
SEED = 8


@dataclass(frozen=True)
class Example:
    text: str
    lang: str
    label: str  # a topic id or OUT_OF_SCOPE


def examples(knowledge: Knowledge) -> Iterator[Example]:
    """What the model learns from: every text the knowledge base gives for each class."""
    for topic in knowledge.topics.values():
        for lang, title in topic.title.items():
            yield Example(title, lang, topic.id)
        for lang, patterns in topic.patterns.items():
            for pattern in patterns:
                yield Example(pattern, lang, topic.id)
        for printed in topic.messages:
            yield Example(printed.text, printed.lang, topic.id)
        for code in topic.codes:
            yield Example(code, "en", topic.id)
    for lang, texts in knowledge.out_of_scope.items():
        for text in texts:
            yield Example(text, lang, OUT_OF_SCOPE)


def wrapped(example: Example, words: Words, rng: random.Random) -> str:
    """An example inside a sentence or two of context in its language."""
    context = words.context.get(example.lang, ())
    if not context:
        return example.text
    before = " ".join(rng.sample(context, rng.randint(1, 2)))
    after = rng.choice(context) if rng.random() < 0.6 else ""
    return f"{before} {example.text}. {after}"


@dataclass
class Trained:
    """A model with the feature names and classes it was trained on."""

    model: SoftmaxModel
    vocabulary: dict[str, int]
    classes: list[str]


def train(knowledge: Knowledge, words: Words, detector: Detector,
          items: list[Example] | None = None) -> Trained:
    """Train on the knowledge base's examples (or on `items`, for cross-validation)."""
    items = list(examples(knowledge)) if items is None else items
    rng = random.Random(SEED)
    texts = [(e.text, e.label) for e in items]
    texts += [(wrapped(e, words, rng), e.label) for e in items
              for _ in range(WRAPPED_COPIES) if not _is_code(e)]
    classes = [*knowledge.topics, OUT_OF_SCOPE]
    class_index = {c: i for i, c in enumerate(classes)}
    vocabulary: dict[str, int] = {}
    rows = []
    for text, _ in texts:
        norm = normalize(text)
        features = unit(read(norm, words, detector.provider(norm)).features)
        rows.append({vocabulary.setdefault(f, len(vocabulary)): v for f, v in features.items()})
    labels = np.array([class_index[label] for _, label in texts], dtype=np.int64)
    model = SoftmaxModel.train(SparseRows.build(rows), labels, len(vocabulary), len(classes))
    return Trained(model, vocabulary, classes)


def _is_code(example: Example) -> bool:
    return not WORD.sub("", example.text).strip(" .[]") and any(c.isdigit() for c in example.text)


def content_hash(knowledge: Knowledge) -> str:
    """The hash of every knowledge file and of the matcher's code: what a model depends on."""
    digest = hashlib.sha256()
    roots = ((knowledge.root, "**/*.yaml"), (Path(__file__).parent, "*.py"))
    for root, pattern in roots:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def cache_dir() -> Path:
    """$MAILHELP_DATA/model-cache, else the user's cache folder."""
    if data := os.environ.get("MAILHELP_DATA"):
        return Path(data).expanduser() / "model-cache"
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "mailhelp"


def load_or_train(knowledge: Knowledge, words: Words, detector: Detector,
                  folder: Path | None = None) -> Trained:
    """The cached model for this knowledge base, trained and stored when missing.

    A cache that cannot be read or written is ignored: the model is then trained in memory.
    """
    folder = folder or cache_dir()
    path = folder / f"matcher-{content_hash(knowledge)}.npz"
    try:
        with np.load(path) as data:
            vocabulary = {str(f): i for i, f in enumerate(data["features"])}
            return Trained(SoftmaxModel(data["weights"], data["bias"]), vocabulary,
                           [str(c) for c in data["classes"]])
    except (OSError, ValueError, KeyError):
        pass
    trained = train(knowledge, words, detector)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, weights=trained.model.weights, bias=trained.model.bias,
                     features=np.array(list(trained.vocabulary)),
                     classes=np.array(trained.classes))
        os.replace(tmp, path)
    except OSError:
        pass
    return trained
