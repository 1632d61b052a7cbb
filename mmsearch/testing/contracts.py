"""Contract test classes. Each test method states a promise the engine relies on, and each failure
says which promise was broken and what to change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..embedder import Embedder
from ..errors import ExtractError, PluginError
from ..modality import Modality
from ..segment_check import problem
from ..types import TEXT, Segment, Source

UNITS = ("chars", "tokens", "words")


def source_for(path: Path) -> Source:
    """The :class:`~mmsearch.types.Source` the engine would hand a modality for ``path``."""
    return Source(path=path, relpath=path.name, size=path.stat().st_size)


class ModalityContract:
    """Provide fixtures ``modality`` (an instance), ``sample_file`` (a Path it must read into at
    least one segment) and ``corrupt_file`` (a Path with an accepted extension that it must reject).

    Optional fixture ``embedders`` (default: none): embedders the modality's segments are meant
    for; every segment must fit each one's ``max_input``, or the model silently drops its end.
    """

    @pytest.fixture
    def embedders(self) -> Sequence[Embedder]:
        return ()

    def test_declares_name_kinds_and_extensions(self, modality: Modality) -> None:
        assert isinstance(modality, Modality), f"{modality!r} must subclass mmsearch.Modality"
        assert isinstance(modality.name, str) and modality.name, f"{type(modality).__name__} must set a non-empty `name`"
        assert modality.kinds and all(isinstance(k, str) for k in modality.kinds), \
            f"modality {modality.name!r} must declare `kinds`, a non-empty frozenset of str, not {modality.kinds!r}"
        bad = [ext for ext in modality.extensions if not (ext.startswith(".") and ext == ext.lower())]
        assert not bad, f"modality {modality.name!r}: extensions must be lower-case with the dot, not {bad}"

    def test_accepts_its_sample(self, modality: Modality, sample_file: Path) -> None:
        assert modality.accepts(sample_file), f"modality {modality.name!r} does not accept its own sample {sample_file.name}"

    def test_extracts_segments_of_declared_kinds(self, modality: Modality, sample_file: Path) -> None:
        segments = list(modality.segments(source_for(sample_file)))
        assert segments, f"{modality.name} yielded no segment for {sample_file.name}"
        for segment in segments:
            assert isinstance(segment, Segment), f"{modality.name} yielded {type(segment).__name__}, not a Segment"
            assert segment.kind in modality.kinds, \
                f"{modality.name} yielded a {segment.kind!r} segment but declares kinds {sorted(modality.kinds)}"

    def test_text_segments_carry_str(self, modality: Modality, sample_file: Path) -> None:
        # extract() itself: segments() would already refuse or drop what this names
        for n, segment in enumerate(modality.extract(source_for(sample_file))):
            if segment.kind != TEXT:
                continue
            assert isinstance(segment.payload, str), \
                f"{modality.name}: text segment {n} has a {type(segment.payload).__name__} payload; decode it to str"
            assert segment.payload.strip(), f"{modality.name}: text segment {n} is empty; yield only text with content"

    def test_segments_can_be_stored(self, modality: Modality, sample_file: Path) -> None:
        """What the engine checks before storing a segment (mmsearch/segment_check.py): finite,
        ordered locators, pages from 1, valid Unicode, JSON-serialisable meta."""
        for n, segment in enumerate(modality.extract(source_for(sample_file))):
            reason = problem(segment) if isinstance(segment, Segment) else None
            assert reason is None, f"{modality.name}: segment {n} cannot be indexed: {reason}"

    def test_segments_fit_the_embedders_input(self, modality: Modality, sample_file: Path, embedders: Sequence[Embedder]) -> None:
        segments = list(modality.segments(source_for(sample_file)))
        for embedder in embedders:
            for kind, limit in (embedder.max_input or {}).items():
                for n, segment in enumerate(s for s in segments if s.kind == kind):
                    length = embedder.input_length(kind, segment.payload)
                    assert length is None or length <= limit.amount, (
                        f"{modality.name}: {kind} segment {n} is {length} {limit.unit} long, but embedder "
                        f"{embedder.name!r} reads only {limit.amount} and would silently drop the rest; "
                        f"chunk smaller (about {limit.chars_hint or limit.amount} characters)"
                    )

    def test_extraction_is_deterministic(self, modality: Modality, sample_file: Path) -> None:
        first = [(s.kind, s.locator, s.text) for s in modality.segments(source_for(sample_file))]
        second = [(s.kind, s.locator, s.text) for s in modality.segments(source_for(sample_file))]
        assert first == second, f"{modality.name} gave different segments for the same file twice"

    def test_corrupt_file_raises_extract_error_naming_it(self, modality: Modality, corrupt_file: Path) -> None:
        with pytest.raises(ExtractError) as info:
            list(modality.segments(source_for(corrupt_file)))
        assert corrupt_file.name in str(info.value), f"the error must name the file: {info.value}"
        assert info.value.reason, "the error must give a reason"


class EmbedderContract:
    """Provide fixtures ``embedder`` (an instance) and ``payloads`` (kind -> at least 3 payloads
    of that kind, pairwise different) covering every kind the embedder declares."""

    def test_declares_a_space(self, embedder: Embedder) -> None:
        space = embedder.space
        assert space.embedder == embedder.name and space.model and space.dim > 0, \
            f"embedder {embedder.name!r} must set `name`, `model` and a positive `dim`, got {space}"
        assert space.kinds == frozenset(embedder.kinds), f"embedder {embedder.name!r}: space kinds differ from `kinds`"

    def test_payloads_cover_every_declared_kind(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        missing = sorted(set(embedder.kinds) - set(payloads))
        assert not missing, (
            f"embedder {embedder.name!r} declares kinds {missing} but the `payloads` fixture has none of them; "
            f"give samples of every declared kind, or stop declaring kinds it cannot embed"
        )
        for kind, items in payloads.items():
            assert len(items) >= 3, f"`payloads[{kind!r}]` needs at least 3 different payloads, got {len(items)}"

    def test_vectors_are_normalised_float32_of_dim(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            vectors = embedder.embed(kind, items)
            assert vectors.dtype == np.float32, f"{embedder.name} {kind}: dtype {vectors.dtype}, expected float32"
            assert vectors.shape == (len(items), embedder.dim), f"{embedder.name} {kind}: shape {vectors.shape}"
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4,
                                       err_msg=f"{embedder.name} {kind}: vectors are not unit length")

    def test_query_vectors_are_normalised_float32_of_dim(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            vectors = embedder.embed(kind, items, query=True)
            assert vectors.dtype == np.float32 and vectors.shape == (len(items), embedder.dim)
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)

    def test_batching_does_not_change_vectors(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            together = embedder.embed(kind, items)
            one_by_one = np.concatenate([embedder.embed(kind, [item]) for item in items])
            np.testing.assert_allclose(together, one_by_one, atol=2e-3,
                                       err_msg=f"{embedder.name} {kind}: a payload's vector depends on its batch")

    def test_different_payloads_give_different_vectors(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, items in payloads.items():
            vectors = embedder.embed(kind, items)
            sims = vectors @ vectors.T
            off_diagonal = sims[~np.eye(len(items), dtype=bool)]
            assert (off_diagonal < 0.9999).all(), f"{embedder.name} {kind}: different payloads gave the same vector"

    def test_refuses_kinds_it_does_not_take(self, embedder: Embedder) -> None:
        with pytest.raises(PluginError):
            embedder.embed("no-such-kind", ["x"])

    def test_info_says_where_weights_come_from(self, embedder: Embedder) -> None:
        assert type(embedder).info is not Embedder.info, \
            f"{type(embedder).__name__} must override info(): say where its weights come from and whether they are here"
        info = embedder.info()
        assert isinstance(info.available, bool) and info.weights, f"{embedder.name}: info() must name the weights, got {info}"

    def test_max_input_is_declared_sanely(self, embedder: Embedder, payloads: Mapping[str, Sequence[Any]]) -> None:
        for kind, limit in (embedder.max_input or {}).items():
            assert kind in embedder.kinds, f"{embedder.name}: max_input names kind {kind!r}, which it does not embed"
            assert limit.amount > 0 and limit.unit in UNITS, f"{embedder.name}: max_input[{kind!r}] = {limit} (units: {UNITS})"
            for item in payloads.get(kind, ()):
                length = embedder.input_length(kind, item)
                assert length is None or length > 0, f"{embedder.name}: input_length({item!r}) = {length}"

    def test_scripts_name_unicode_scripts(self, embedder: Embedder) -> None:
        scripts = embedder.scripts
        if scripts is None:
            return
        assert isinstance(scripts, frozenset) and scripts, f"{embedder.name}: scripts must be None or a non-empty frozenset, got {scripts!r}"
        # Names as the first word of a character's Unicode name: LATIN, CYRILLIC, CJK, HIRAGANA ...
        assert all(isinstance(s, str) and s.isupper() and " " not in s for s in scripts), \
            f"{embedder.name}: scripts {sorted(scripts)} must be upper-case script names such as 'LATIN'"

    def test_languages_are_iso_codes(self, embedder: Embedder) -> None:
        languages = embedder.languages
        if languages is None:
            return
        assert isinstance(languages, frozenset) and languages, f"{embedder.name}: languages must be None or a non-empty frozenset, got {languages!r}"
        assert all(isinstance(c, str) and len(c) == 2 and c.isalpha() and c.islower() for c in languages), \
            f"{embedder.name}: languages {sorted(languages)} must be ISO 639-1 codes such as 'en'"
