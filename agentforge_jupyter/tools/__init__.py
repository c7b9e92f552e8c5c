"""The verified tool registry: self-contained functions, verified once, versioned, retrieved.

Modules: ``model`` (Tool, reports, errors), ``parse`` (one function, free names, doctests),
``verify`` (lint + doctests in a fresh sandbox), ``registry`` (tools.json, versions),
``records`` (tools.json validated on read), ``local`` (verified on this machine),
``lifecycle`` (deprecate, remove, verify again), ``retrieval`` (BM25 + column fit, prompt
section), ``package`` (the ``agentforge_tools`` package for sandboxes, sources for exported
notebooks), ``starter`` (starter tools), ``display`` (text for the CLI and magics).
See docs/tools.md.
"""

from __future__ import annotations

from .display import describe_tool, hits_table, tools_table
from .model import (
    Example,
    ExampleFailure,
    Param,
    Tool,
    ToolError,
    ToolNotFoundError,
    ToolParseError,
    ToolRejectedError,
    VerificationReport,
    parse_ref,
)
from .package import PACKAGE_NAME, tool_sources_for_export, tools_used_in, write_tools_package
from .parse import ToolCandidate, check_imports, parse_tool
from .registry import ToolRegistry, retrieve, run_provenance, user_provenance
from .retrieval import ToolHit, prompt_section
from .starter import ainstall_starter_tools, install_shipped_tools, install_starter_tools
from .verify import lint_candidate, run_doctests, verify_candidate

__all__ = [
    "PACKAGE_NAME",
    "Example",
    "ExampleFailure",
    "Param",
    "Tool",
    "ToolCandidate",
    "ToolError",
    "ToolHit",
    "ToolNotFoundError",
    "ToolParseError",
    "ToolRegistry",
    "ToolRejectedError",
    "VerificationReport",
    "ainstall_starter_tools",
    "check_imports",
    "describe_tool",
    "hits_table",
    "install_shipped_tools",
    "install_starter_tools",
    "lint_candidate",
    "parse_ref",
    "parse_tool",
    "prompt_section",
    "retrieve",
    "run_doctests",
    "run_provenance",
    "tool_sources_for_export",
    "tools_table",
    "tools_used_in",
    "user_provenance",
    "verify_candidate",
    "write_tools_package",
]
