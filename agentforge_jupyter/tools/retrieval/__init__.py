"""Retrieval: which verified tools a run is offered. ``text`` (tokens, Snowball stems),
``vocabulary`` (analyst words grouped into concepts, for tools and queries alike), ``fit``
(parameters against the dataset's columns), ``index`` (BM25 and name precision, cached per
version of tools.json), ``prompt`` (what the model is shown). ``ToolRegistry.retrieve`` and
:func:`agentforge_jupyter.tools.retrieve` are the entry points."""

from __future__ import annotations

from .fit import column_fit
from .index import ToolHit, ToolIndex, ToolSource, build_index, index_for
from .prompt import MAX_DOC_CHARS, MAX_SIGNATURE_CHARS, prompt_section
from .text import stem, tokenize

__all__ = [
    "MAX_DOC_CHARS",
    "MAX_SIGNATURE_CHARS",
    "ToolHit",
    "ToolIndex",
    "ToolSource",
    "build_index",
    "column_fit",
    "index_for",
    "prompt_section",
    "stem",
    "tokenize",
]
