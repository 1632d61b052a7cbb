"""Optional dependencies: a plugin checks its extra is installed before importing it.

``require_extra("clip", "torch", "open_clip")`` at the top of a plugin package raises
:class:`MissingExtraError` naming the ``pip install`` line; the plugin loader then disables that
plugin with this one line instead of a traceback (``mmsearch plugins`` lists it as failed).
"""

from __future__ import annotations

import importlib.util


class MissingExtraError(ImportError):
    """A plugin's optional dependencies are not installed; the message says how to install them."""


def require_extra(extra: str, *modules: str, distribution: str = "mmsearch") -> None:
    """Raise :class:`MissingExtraError` unless every module in ``modules`` can be imported.

    Only looks the modules up (no import), so a plugin that has its extra pays nothing here.
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(
            f'needs {", ".join(missing)}, not installed; install with: pip install "{distribution}[{extra}]"'
        )
