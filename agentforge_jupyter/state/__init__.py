"""The state directory: versioned JSON documents and append-only JSONL event logs.

Modules: ``paths`` (where the state and the user's config directory are), ``files`` (no links
followed, private modes, atomic replace), ``locking`` (thread + inter-process locks),
``document`` (one versioned JSON document), ``directory`` (``StateDir``), ``jsonl`` (logs).
A state directory may come from someone else (a cloned repository, a shared volume): see
docs/state.md for what in it is data, what is code, and who must trust what.
"""

from __future__ import annotations

from .directory import DOCUMENT_VERSIONS, StateDir
from .document import SCHEMA_PREFIX, Document
from .files import UnsafeStateError, atomic_write_bytes, child_path, read_bytes_nofollow
from .jsonl import JsonlRead, append_jsonl, read_jsonl
from .locking import DEFAULT_LOCK_TIMEOUT_S
from .paths import CONFIG_DIR_ENV, STATE_DIR_ENV, config_dir, state_dir

__all__ = [
    "CONFIG_DIR_ENV",
    "DEFAULT_LOCK_TIMEOUT_S",
    "DOCUMENT_VERSIONS",
    "SCHEMA_PREFIX",
    "STATE_DIR_ENV",
    "Document",
    "JsonlRead",
    "StateDir",
    "UnsafeStateError",
    "append_jsonl",
    "atomic_write_bytes",
    "child_path",
    "config_dir",
    "read_bytes_nofollow",
    "read_jsonl",
    "state_dir",
]
