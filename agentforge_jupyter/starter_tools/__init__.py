"""Source files of the starter tools shipped in the repository's state/tools.json.

Each ``*.py`` file here is one tool in the registry's accepted shape (imports, then one
function with doctests). They are data, registered through the normal verification path by
:func:`agentforge_jupyter.tools.install_starter_tools`; nothing imports them as modules.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["starter_sources"]


def starter_sources() -> dict[str, str]:
    """``{file stem: source}`` for every starter tool, sorted by name."""
    root = resources.files(__name__)
    return {
        entry.name[:-3]: entry.read_text(encoding="utf-8")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".py") and not entry.name.startswith("_")
    }
