"""Issue 10 item 18: the core and the image/text plugins never import a model stack, and a plugin
whose extra is missing is disabled with the pip line naming the extra."""

from __future__ import annotations

import re
import subprocess
import warnings
import sys

import pytest

from mmsearch.plugins import PluginWarning, make_plugin_manager

HEAVY = ("torch", "torchvision", "open_clip", "sentence_transformers", "transformers", "faster_whisper", "whisper")


def test_core_and_image_text_plugins_do_not_import_model_stacks() -> None:
    code = (
        "import sys, mmsearch, mmsearch.engine, mmsearch.cli, mmsearch.testing, mmsearch_image, mmsearch_text\n"
        "from mmsearch.plugins import Registry, make_plugin_manager\n"
        "from mmsearch.settings import Settings\n"
        "import os; os.environ['MMSEARCH_LOAD_PLUGINS'] = 'image,text'\n"
        "Registry(make_plugin_manager(), Settings())\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"the light core imported {out.stdout.strip()}"


@pytest.mark.parametrize(("plugin", "module", "extra"), [("clip", "open_clip", "clip"), ("lite", "transformers", "lite"),
                                                          ("audio", "faster_whisper", "audio"), ("video", "av", "video")])
def test_plugin_without_its_extra_is_disabled_naming_it(monkeypatch: pytest.MonkeyPatch, plugin: str, module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    for name in [n for n in sys.modules if n == f"mmsearch_{plugin}" or n.startswith(f"mmsearch_{plugin}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("MMSEARCH_LOAD_PLUGINS", f"{plugin},text")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)  # an extra that is not installed is no news
        pm = make_plugin_manager()
    assert plugin in pm.failures and pm.get_plugin("text") is not None
    assert re.search(rf"{module}.*pip install \"mmsearch\[{extra}\]\"", pm.failures[plugin].reason), pm.failures[plugin].reason
