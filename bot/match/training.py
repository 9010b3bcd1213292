"""Training the matcher's model from the knowledge base, and caching it by content hash.

Every topic's titles, patterns, printed messages and reply codes are examples of that
topic; knowledge/out-of-scope.yaml gives examples of the class "not ours". Features are
weighted by rarity among the examples (IDF). The trained model is kept in a cache
file named by the hash of the knowledge files and of this package's code: an editor's
change takes effect on the next start, with no extra step.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.kb import LANGS, Knowledge
from bot.match.detect import Providers, Words
from bot.match.features import read, vector
from bot.match.model import SoftmaxModel, SparseRows
from bot.match.text import WORD, normalize

OUT_OF_SCOPE = "out-of-scope"  # the extra class after the topics
KEEP_MODELS = 4  # cached models kept per folder, newest first: each edit makes one


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


@dataclass
class Trained:
    """A model with the feature names and classes it was trained on."""

    model: SoftmaxModel
    vocabulary: dict[str, int]  # feature name -> row of the model's weights
    classes: list[str]
    idf: npt.NDArray[np.float32]  # per feature: how rare it is among the examples
    lang_words: dict[str, frozenset[str]]  # per language, the words of its examples


def train(knowledge: Knowledge, words: Words, providers: Providers,
          items: list[Example] | None = None) -> Trained:
    """Train on the knowledge base's examples (or on `items`, for cross-validation)."""
    items = list(examples(knowledge)) if items is None else items
    texts = [(e.text, e.label) for e in items]
    classes = [*knowledge.topics, OUT_OF_SCOPE]
    class_index = {c: i for i, c in enumerate(classes)}
    readings = []
    for text, _ in texts:
        norm = normalize(text)
        readings.append(read(norm, words, providers.detect(norm)).features)
    vocabulary: dict[str, int] = {}
    for features in readings:
        for f in features:
            vocabulary.setdefault(f, len(vocabulary))
    df = np.zeros(len(vocabulary), dtype=np.float32)
    for features in readings:
        df[[vocabulary[f] for f in features]] += 1
    idf = (np.log((1 + len(readings)) / (1 + df)) + 1).astype(np.float32)
    rows = [vector(features, vocabulary, idf) for features in readings]
    labels = np.array([class_index[label] for _, label in texts], dtype=np.int64)
    model = SoftmaxModel.train(SparseRows.build(rows), labels, len(vocabulary), len(classes))
    lang_words: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for e in items:
        lang_words[e.lang].update(WORD.findall(normalize(e.text)))
    return Trained(model, vocabulary, classes, idf,
                   {lang: frozenset(w) for lang, w in lang_words.items()})


def content_hash(knowledge: Knowledge) -> str:
    """The hash of every knowledge file and of the matcher's code: what a model depends on."""
    digest = hashlib.sha256()
    roots = ((knowledge.root, "**/*.yaml"), (Path(__file__).parent, "*.py"))
    for root, pattern in roots:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def cache_dirs() -> list[Path]:
    """Where a trained model may be kept: the user's cache folder, then $MAILHELP_DATA."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    folders = [Path(base).expanduser() / "mailhelp"]
    if data := os.environ.get("MAILHELP_DATA"):
        folders.append(Path(data).expanduser() / "model-cache")
    return folders


def load_or_train(knowledge: Knowledge, words: Words, providers: Providers,
                  folders: list[Path] | None = None) -> Trained:
    """The cached model for this knowledge base, trained and stored when missing.

    A cache that cannot be read is ignored and one that cannot be written is skipped:
    the model is then trained in memory.
    """
    folders = cache_dirs() if folders is None else folders
    name = f"matcher-{content_hash(knowledge)}.npz"
    for folder in folders:
        try:
            with np.load(folder / name) as data:
                features: list[str] = data["features"].tolist()
                return Trained(SoftmaxModel(data["weights"], data["bias"]),
                               {f: i for i, f in enumerate(features)},
                               data["classes"].tolist(), data["idf"],
                               {lang: frozenset(data["words_" + lang].tolist()) for lang in LANGS})
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            continue  # missing, or written by another version: train anew
    trained = train(knowledge, words, providers)
    for folder in folders:
        try:
            _store(trained, folder, name)
        except OSError:
            continue
        _prune(folder)
        break
    return trained


def _prune(folder: Path) -> None:
    """Old models go: only the newest KEEP_MODELS stay (another instance may use one)."""
    def age(path: Path) -> float:
        try:
            return -path.stat().st_mtime
        except OSError:
            return 0.0
    for old in sorted(folder.glob("matcher-*.npz"), key=age)[KEEP_MODELS:]:
        old.unlink(missing_ok=True)


def _store(trained: Trained, folder: Path, name: str) -> None:
    """Written under a temporary name and renamed: a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        arrays = {"weights": trained.model.weights, "bias": trained.model.bias,
                  "features": np.array(list(trained.vocabulary)),
                  "classes": np.array(trained.classes), "idf": trained.idf}
        for lang, lang_words in trained.lang_words.items():
            arrays["words_" + lang] = np.array(sorted(lang_words), dtype=str)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, folder / name)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
