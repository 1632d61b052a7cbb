"""Every hookspec has a test named after it and is documented in the README with its exact signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from mmsearch import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(name for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and hasattr(fn, "mmsearch_spec"))


def test_there_are_hooks() -> None:
    assert {"register_modalities", "register_embedders", "register_fusers", "register_commands", "ignore_path"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    assert re.search(rf"def test_hook_{hook}\b", tests), f"write tests/…::test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    readme = (ROOT / "README.md").read_text()
    assert f"`{hook}({params})`" in readme, f"README must document `{hook}({params})`"
