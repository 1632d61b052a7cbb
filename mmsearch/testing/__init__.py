"""Conformance kit for plugin authors: subclass a contract class in your tests to inherit its suite.

    from mmsearch.testing import EmbedderContract

    class TestMyEmbedder(EmbedderContract):
        @pytest.fixture
        def embedder(self):
            return MyEmbedder()

        @pytest.fixture
        def payloads(self):
            return {"text": ["a dog", "a cat", "a car"]}
"""

from .contracts import EmbedderContract, ModalityContract, source_for
from .fakes import HashEmbedder, fake_plugin

__all__ = ["EmbedderContract", "ModalityContract", "HashEmbedder", "fake_plugin", "source_for"]
