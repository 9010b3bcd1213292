"""Multinomial logistic regression over sparse features, trained with numpy alone.

Small enough to train at start-up (full-batch Adam on a few thousand short texts) and
to score one query in microseconds: a query touches only the rows of its features.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]

EPOCHS = 40
LEARNING_RATE = 0.2
L2 = 1e-5  # weight decay per example, keeps rare features from claiming a class alone
CHUNK_CELLS = 4_000_000  # temporary products per step of a sparse product (16 MB)


@dataclass
class SparseRows:
    """Rows of (feature index, value) pairs in CSR form, with a CSC copy for the gradient."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    values: Array

    @classmethod
    def build(cls, rows: Sequence[Mapping[int, float]]) -> SparseRows:
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        indices = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(indptr[-1]))
        values = np.fromiter((v for r in rows for v in r.values()), dtype=np.float32,
                             count=int(indptr[-1]))
        return cls(indptr, indices, values)

    def dot(self, weights: Array) -> Array:
        """rows @ weights, for weights of shape (features, classes)."""
        out = np.zeros((len(self.indptr) - 1, weights.shape[1]), dtype=np.float32)
        for first, last in _chunks(self.indptr, weights.shape[1]):
            lo, hi = self.indptr[first], self.indptr[last]
            products = weights[self.indices[lo:hi]] * self.values[lo:hi, None]
            starts = self.indptr[first:last] - lo
            nonempty = np.flatnonzero(np.diff(self.indptr[first:last + 1]))
            out[first + nonempty] = np.add.reduceat(products, starts[nonempty], axis=0)
        return out

    def transposed(self) -> Transposed:
        """The same entries ordered by feature, for rows.T @ grad."""
        row_of = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        order = np.argsort(self.indices, kind="stable")
        features = self.indices[order]
        starts = np.flatnonzero(np.r_[True, features[1:] != features[:-1]])
        bounds = np.append(starts, len(features))
        return Transposed(row_of[order], self.values[order], bounds, features[starts])


@dataclass
class Transposed:
    """Sparse rows by feature: the row and value of each entry, where each feature's entries
    start (and, last, where the entries end)."""

    rows: npt.NDArray[np.int64]
    values: Array
    bounds: npt.NDArray[np.int64]
    features: npt.NDArray[np.int64]

    def dot(self, grad: Array, n_features: int) -> Array:
        """rows.T @ grad: per feature, the sum over the rows that have it."""
        out = np.zeros((n_features, grad.shape[1]), dtype=np.float32)
        for first, last in _chunks(self.bounds, grad.shape[1]):
            lo, hi = self.bounds[first], self.bounds[last]
            products = grad[self.rows[lo:hi]] * self.values[lo:hi, None]
            out[self.features[first:last]] = np.add.reduceat(
                products, self.bounds[first:last] - lo, axis=0)
        return out


@dataclass
class SoftmaxModel:
    """weights: (features, classes); bias: (classes,)."""

    weights: Array
    bias: Array

    @classmethod
    def train(cls, rows: SparseRows, labels: npt.NDArray[np.int64], n_features: int,
              n_classes: int, seed: int = 0) -> SoftmaxModel:
        n = len(labels)
        target = np.zeros((n, n_classes), dtype=np.float32)
        target[np.arange(n), labels] = 1.0
        rng = np.random.default_rng(seed)
        w = (rng.standard_normal((n_features, n_classes)) * 1e-3).astype(np.float32)
        b = np.zeros(n_classes, dtype=np.float32)
        params = [w, b]
        moments = [np.zeros_like(p) for p in params]
        squares = [np.zeros_like(p) for p in params]
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        by_feature = rows.transposed()
        for step in range(1, EPOCHS + 1):
            probs = _softmax(rows.dot(w) + b)
            delta = np.asarray((probs - target) / n, dtype=np.float32)
            grads = [by_feature.dot(delta, n_features) + L2 * w, delta.sum(axis=0)]
            for p, g, m, v in zip(params, grads, moments, squares, strict=True):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                p -= LEARNING_RATE * (m / (1 - beta1**step)) / (
                    np.sqrt(v / (1 - beta2**step)) + eps)
        return cls(w, b)

    def logits(self, features: Mapping[int, float]) -> Array:
        if not features:
            return self.bias.copy()
        idx = np.fromiter(features.keys(), dtype=np.int64, count=len(features))
        val = np.fromiter(features.values(), dtype=np.float32, count=len(features))
        return np.asarray(val @ self.weights[idx] + self.bias, dtype=np.float32)


def _chunks(bounds: npt.NDArray[np.int64], width: int) -> Iterator[tuple[int, int]]:
    """Groups [first, last) of consecutive segments whose entries times `width` stay
    under CHUNK_CELLS: the products of a large knowledge base never fill the memory."""
    per_chunk = max(1, CHUNK_CELLS // max(1, width))
    first, count = 0, len(bounds) - 1
    while first < count:
        last = int(np.searchsorted(bounds, bounds[first] + per_chunk, side="right")) - 1
        last = min(count, max(first + 1, last))
        yield first, last
        first = last


def _softmax(z: Array) -> Array:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)


def softmax(z: Array, temperature: float = 1.0) -> Array:
    """Probabilities of one row of logits, flattened or sharpened by a temperature."""
    return np.asarray(_softmax((z / temperature)[None, :])[0], dtype=np.float32)
