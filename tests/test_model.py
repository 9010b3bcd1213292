"""The numpy logistic regression: its sparse products and what training learns."""

from __future__ import annotations

import numpy as np
import pytest

from bot.match import model
from bot.match.model import SoftmaxModel, SparseRows, softmax


def _rows(seed: int) -> tuple[list[dict[int, float]], np.ndarray]:
    rng = np.random.default_rng(seed)
    rows: list[dict[int, float]] = []
    dense = np.zeros((60, 40), dtype=np.float32)
    for r in range(60):
        picked = rng.choice(40, size=int(rng.integers(0, 8)), replace=False)  # some rows empty
        rows.append({int(i): float(rng.random()) for i in picked})
        for i, v in rows[-1].items():
            dense[r, i] = v
    return rows, dense


@pytest.mark.parametrize("cells", [1, 7, 50, 4_000_000])
def test_sparse_products_equal_dense_ones_in_any_chunk_size(
        cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "CHUNK_CELLS", cells)
    rows, dense = _rows(1)
    weights = np.random.default_rng(2).standard_normal((40, 5)).astype(np.float32)
    grad = np.random.default_rng(3).standard_normal((60, 5)).astype(np.float32)
    sparse = SparseRows.build(rows)
    np.testing.assert_allclose(sparse.dot(weights), dense @ weights, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sparse.transposed().dot(grad, 40), dense.T @ grad,
                               rtol=1e-5, atol=1e-5)


def test_training_separates_classes_by_their_features() -> None:
    rows = [{0: 1.0}, {0: 0.9, 3: 0.1}, {1: 1.0}, {1: 0.8, 3: 0.2}, {2: 1.0}, {2: 0.7, 3: 0.3}]
    labels = np.array([0, 0, 1, 1, 2, 2], dtype=np.int64)
    trained = SoftmaxModel.train(SparseRows.build(rows), labels, n_features=4, n_classes=3)
    for feature, label in ((0, 0), (1, 1), (2, 2)):
        probs = softmax(trained.logits({feature: 1.0}))
        assert int(np.argmax(probs)) == label and probs[label] > 0.5
