"""Recall@k for paired image/text vectors: item i's image belongs with item i's caption."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KS = (1, 5, 10)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def ranks(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """0-based rank of gallery[i] for queries[i]; ties count against the right answer."""
    sims = _unit(queries) @ _unit(gallery).T
    right = np.diag(sims)[:, None]
    return (sims >= right).sum(axis=1) - 1


def recall(images: np.ndarray, texts: np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """{"t2i@1": …, "i2t@1": …} in percent, for text→image and image→text retrieval."""
    t2i, i2t = ranks(texts, images), ranks(images, texts)
    out = {}
    for k in ks:
        out[f"t2i@{k}"] = round(100.0 * float((t2i < k).mean()), 2)
        out[f"i2t@{k}"] = round(100.0 * float((i2t < k).mean()), 2)
    return out


def chance(n: int, ks: Sequence[int] = KS) -> dict[str, float]:
    return {f"{d}@{k}": round(100.0 * min(k, n) / n, 2) for k in ks for d in ("t2i", "i2t")}


def score(metrics: dict[str, float]) -> float:
    """One number to choose by: mean of all recalls."""
    return float(np.mean(list(metrics.values())))


def table(rows: dict[str, dict[str, float]], ks: Sequence[int] = KS) -> str:
    """A markdown table, one row per method."""
    head = "| method | " + " | ".join(f"t→i R@{k}" for k in ks) + " | " + " | ".join(f"i→t R@{k}" for k in ks) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(ks))]
    for name, m in rows.items():
        cells = [f"{m[f't2i@{k}']:.1f}" for k in ks] + [f"{m[f'i2t@{k}']:.1f}" for k in ks]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
