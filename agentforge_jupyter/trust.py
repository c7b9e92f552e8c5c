"""This user's own verdicts about shared state, kept in the user's config directory.

A state directory is shared (git, a team volume), so nothing in it can say "trust me". What
this user decided is recorded here instead, by hash, like ``direnv allow``:

* ``tools``: fingerprints of tool versions that passed verification *on this machine*
  (``agentforge tools verify``, or registering the tool here). Only those are offered to runs.
* ``brains``: fingerprints of stored brain specs this user allowed to read a key variable
  or reach a link-local address (``agentforge state trust``).
* ``keys``: the key-variable names of this user's personal brains (``brains add``), bound to
  the endpoint they were given for, so a shared brains.json cannot redirect them.

The file is ``<config dir>/trust.json`` (``AGENTFORGE_CONFIG_DIR`` overrides the directory).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .state import Document, config_dir
from .state.files import checked_dir

__all__ = ["TrustStore", "fingerprint"]

SECTIONS = ("tools", "brains", "keys")


def fingerprint(data: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``data`` (sorted keys, no spaces)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class TrustStore:
    """The user's trust records (read lock-free, written under the document lock)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else config_dir()

    def __repr__(self) -> str:
        return f"TrustStore({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.directory / "trust.json"

    @property
    def document(self) -> Document:
        return Document(self.path, "trust")

    def _section(self, name: str) -> dict[str, Any]:
        section = self.document.read()["items"].get(name)
        return section if isinstance(section, dict) else {}

    def _put(self, name: str, entries: dict[str, Any], *, remove: Iterable[str] = ()) -> None:
        checked_dir(self.directory)
        with self.document.update() as data:
            section = data["items"].get(name)
            if not isinstance(section, dict):
                section = data["items"][name] = {}
            section.update(entries)
            for key in remove:
                section.pop(key, None)

    # -- tools

    def verified_tools(self) -> dict[str, Any]:
        """``{fingerprint: {"name", "checked", ...}}`` of tool versions verified here."""
        return self._section("tools")

    def record_tools(self, records: dict[str, dict[str, Any]]) -> None:
        """Record tool fingerprints as verified on this machine (one write for many)."""
        if records:
            self._put("tools", records)

    def forget_tools(self, fingerprints: Iterable[str]) -> None:
        keys = list(fingerprints)
        if keys:
            self._put("tools", {}, remove=keys)

    # -- brains

    def allowed_brains(self) -> dict[str, Any]:
        return self._section("brains")

    def allow_brains(self, records: dict[str, dict[str, Any]]) -> None:
        if records:
            self._put("brains", records)

    # -- personal key variables

    def personal_keys(self) -> dict[str, Any]:
        """``{brain name: {"api_key_env", "target"}}`` set by this user's ``brains add``."""
        return self._section("keys")

    def set_personal_key(self, brain: str, api_key_env: str | None, target: str) -> None:
        if api_key_env:
            self._put("keys", {brain: {"api_key_env": api_key_env, "target": target}})
        else:
            self._put("keys", {}, remove=[brain])
