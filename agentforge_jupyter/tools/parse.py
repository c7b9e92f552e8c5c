"""Parse a tool's source: exactly one top-level function, self-contained, with doctests.

Accepted shape (anything else is refused with a message that says what to change)::

    import pandas as pd            # optional: top-level imports only, before the function

    def top_n(df: pd.DataFrame, by: str, n: int = 5) -> pd.DataFrame:
        \"\"\"One-line summary. ... >>> examples ...\"\"\"
        import numpy as np         # imports inside the function are fine too
        ...

Top-level imports are allowed because annotations such as ``pd.DataFrame`` are evaluated when
the function is defined, so the module they name must be imported at module level. Nothing
else may sit at top level (no constants, classes, decorators, module docstring): all of a
tool's behaviour is inside its one function. Free names are found with :mod:`symtable` (the
compiler's own scope analysis), so comprehensions, lambdas and nested functions are handled
exactly as Python would resolve them.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import hashlib
import re
import symtable
import textwrap
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..lint import LintPolicy, default_policy
from .model import NAME_RE, Example, Param, ToolParseError

__all__ = ["ToolCandidate", "check_imports", "normalize_source", "parse_tool"]

_BUILTIN_NAMES = frozenset(dir(builtins))
_TAG_LINE_RE = re.compile(r"^\s*Tags:\s*(?P<tags>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class ToolCandidate:
    """A parsed, not yet verified tool. ``source`` is normalised (dedented, one final newline)."""

    name: str
    source: str
    signature: str
    docstring: str
    examples: tuple[Example, ...]
    params: tuple[Param, ...]
    returns: str | None
    imports: tuple[str, ...]
    tags: tuple[str, ...] = ()
    sha256: str = ""
    top_level_imports: tuple[str, ...] = field(default=(), repr=False)


def normalize_source(source: str) -> str:
    """Dedent, drop surrounding blank lines and trailing spaces, end with one newline."""
    text = textwrap.dedent(source.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def parse_tool(source: str, *, name: str | None = None, tags: Iterable[str] = ()) -> ToolCandidate:
    """Parse ``source`` into a :class:`ToolCandidate`, or raise :class:`ToolParseError`.

    ``name``, when given, must equal the function's name (a tool is imported by the name its
    ``def`` gives it, and its doctests call it by that name).
    """
    text = normalize_source(source)
    if not text.strip():
        raise ToolParseError(["The source is empty: write one function with a docstring."], name)
    tree = _parse(text, name)
    func = _the_function(tree, name)
    problems: list[str] = []
    if name is not None and name != func.name:
        problems.append(
            f"--name {name!r} does not match the function name {func.name!r}: a tool is "
            "imported, and its doctests call it, by the name its def gives it. Rename the "
            "function in the source (and in its examples) or leave the name out."
        )
    if not NAME_RE.match(func.name):
        problems.append(
            f"Function name {func.name!r} is not a valid tool name: use lowercase letters, "
            "digits and '_', starting with a letter (at most 64 characters), e.g. 'top_n'."
        )
    if func.decorator_list:
        problems.append(
            f"line {func.decorator_list[0].lineno}: decorators are not allowed on a tool; "
            "write the behaviour inside the function."
        )
    docstring = ast.get_docstring(func, clean=True)
    examples: tuple[Example, ...] = ()
    if not docstring:
        problems.append(
            f"line {func.lineno}: {func.name}() has no docstring. Every tool needs one: a "
            "one-line summary, what the parameters mean, and at least one doctest example "
            "('>>> call(...)' followed by the expected output)."
        )
    else:
        examples = _examples(func, docstring, problems)
    problems.extend(_scope_problems(text, tree, func))
    if problems:
        raise ToolParseError(problems, func.name)
    return ToolCandidate(
        name=func.name,
        source=text,
        signature=_signature(func),
        docstring=docstring or "",
        examples=examples,
        params=_params(func.args),
        returns=ast.unparse(func.returns) if func.returns is not None else None,
        imports=_imported_modules(tree),
        tags=_tags(docstring or "", tags),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        top_level_imports=tuple(sorted(_top_level_bindings(tree))),
    )


def check_imports(candidate: ToolCandidate, policy: LintPolicy | None = None) -> list[str]:
    """Problems for imported modules outside the lint allow-list (empty when all allowed)."""
    policy = policy or default_policy()
    problems = []
    for module in candidate.imports:
        top = module.split(".")[0]
        if not policy.import_allowed(top):
            problems.append(
                f"import of {module!r} is not allowed in a tool: tools run in the sandbox "
                "with the same import allow-list as generated code (pandas, numpy, scipy, "
                "sklearn, statsmodels, matplotlib, seaborn and safe standard modules)."
            )
    return problems


# --------------------------------------------------------------------------- structure


def _parse(text: str, name: str | None) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except SyntaxError as err:
        where = f"line {err.lineno}: " if err.lineno else ""
        raise ToolParseError([f"{where}syntax error: {err.msg}. Fix the syntax."], name) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ToolParseError([f"The source cannot be parsed: {exc}."], name) from None


def _the_function(tree: ast.Module, name: str | None) -> ast.FunctionDef:
    funcs: list[ast.FunctionDef] = []
    problems: list[str] = []
    seen_function = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs.append(node)
            seen_function = True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if seen_function:
                problems.append(
                    f"line {node.lineno}: imports after the function are not allowed; move "
                    "them above it or inside it."
                )
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                problems.append(
                    f"line {node.lineno}: star imports are not allowed; import the names "
                    "you use explicitly."
                )
        elif isinstance(node, ast.AsyncFunctionDef):
            problems.append(
                f"line {node.lineno}: async functions cannot be tools; write a plain def."
            )
        elif isinstance(node, ast.ClassDef):
            problems.append(
                f"line {node.lineno}: classes are not allowed at top level; a tool is one "
                "function (define helpers inside it)."
            )
        else:
            problems.append(
                f"line {node.lineno}: only imports may precede the function; move this "
                f"{type(node).__name__} statement inside the function."
            )
    if not funcs:
        problems.append(
            "No function found: a tool is exactly one top-level `def` with a docstring."
        )
    elif len(funcs) > 1:
        names = ", ".join(f"{f.name} (line {f.lineno})" for f in funcs)
        problems.append(
            f"Found {len(funcs)} top-level functions: {names}. A tool is exactly one "
            "function; nest helpers inside it or register them as separate tools."
        )
    if problems:
        raise ToolParseError(problems, funcs[0].name if len(funcs) == 1 else name)
    return funcs[0]


def _signature(func: ast.FunctionDef) -> str:
    sig = f"{func.name}({ast.unparse(func.args)})"
    if func.returns is not None:
        sig += f" -> {ast.unparse(func.returns)}"
    return sig


def _params(args: ast.arguments) -> tuple[Param, ...]:
    out: list[Param] = []
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    for i, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = "positional_only" if i < len(args.posonlyargs) else "positional_or_keyword"
        out.append(_param(arg, default, kind))
    if args.vararg:
        out.append(_param(args.vararg, None, "var_positional"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append(_param(arg, default, "keyword_only"))
    if args.kwarg:
        out.append(_param(args.kwarg, None, "var_keyword"))
    return tuple(out)


def _param(arg: ast.arg, default: ast.expr | None, kind: str) -> Param:
    return Param(
        name=arg.arg,
        annotation=ast.unparse(arg.annotation) if arg.annotation is not None else None,
        default=ast.unparse(default) if default is not None else None,
        kind=kind,
    )


def _imported_modules(tree: ast.Module) -> tuple[str, ...]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add("." * node.level + (node.module or ""))
    return tuple(sorted(modules))


def _top_level_bindings(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add(alias.asname or alias.name.split(".")[0])
    return bound


def _tags(docstring: str, explicit: Iterable[str]) -> tuple[str, ...]:
    found = [t for t in explicit]
    for match in _TAG_LINE_RE.finditer(docstring):
        found.extend(re.split(r"[,\s]+", match.group("tags")))
    out: list[str] = []
    for tag in found:
        tag = tag.strip().lower()
        if tag and _TAG_RE.match(tag) and tag not in out:
            out.append(tag)
    return tuple(out)


# --------------------------------------------------------------------------- doctests


def _examples(func: ast.FunctionDef, docstring: str, problems: list[str]) -> tuple[Example, ...]:
    try:
        parsed = doctest.DocTestParser().get_examples(docstring, func.name)
    except ValueError as exc:
        problems.append(
            f"The docstring's examples cannot be parsed as doctests: {exc}. Indent '>>>' "
            "lines consistently and put a space after '>>>'."
        )
        return ()
    if not parsed:
        problems.append(
            f"{func.name}() has no doctest example. Add at least one to the docstring, e.g.\n"
            f"    >>> {func.name}(...)\n    <expected output>\n"
            "A tool is only stored once its examples pass in the sandbox."
        )
        return ()
    offset = _docstring_line_offset(func)
    return tuple(Example(e.source, e.want, offset + e.lineno) for e in parsed)


def _docstring_line_offset(func: ast.FunctionDef) -> int:
    """Line (1-based) in the source of the cleaned docstring's first line."""
    node = func.body[0].value  # type: ignore[attr-defined]
    raw = node.value.expandtabs().split("\n")
    lead = 0
    if raw and not raw[0].strip():
        lead = 1
        while lead < len(raw) and not raw[lead].strip():
            lead += 1
    return node.lineno + lead


# --------------------------------------------------------------------------- scopes


def _scope_problems(text: str, tree: ast.Module, func: ast.FunctionDef) -> list[str]:
    try:
        top = symtable.symtable(text, f"<tool {func.name}>", "exec")
    except SyntaxError as err:
        return [f"line {err.lineno}: {err.msg}."]
    allowed = _BUILTIN_NAMES | _top_level_bindings(tree) | {func.name}
    free: dict[str, str] = {}
    for sym in top.get_symbols():
        if sym.is_referenced() and sym.get_name() not in allowed:
            free.setdefault(sym.get_name(), "at definition time (default value or annotation)")
    declared: set[str] = set()
    for child in top.get_children():
        _walk_scope(child, allowed, free, declared)
    problems = []
    for name in sorted(declared):
        problems.append(
            f"line {_first_line(func, name)}: `global {name}` is not allowed; a tool must not "
            "change module state. Return the value instead."
        )
    for name, where in sorted(free.items()):
        problems.append(
            f"line {_first_line(tree, name)}: {name!r} is not defined {where}. A tool may use "
            "only its parameters, builtins and the modules it imports: pass it as a "
            "parameter, define it inside the function, or import it."
        )
    return problems


def _walk_scope(
    table: symtable.SymbolTable, allowed: frozenset[str] | set[str], free: dict, declared: set
) -> None:
    for sym in table.get_symbols():
        name = sym.get_name()
        if sym.is_declared_global():
            declared.add(name)
        elif (sym.is_referenced() or sym.is_assigned()) and sym.is_global() and name not in allowed:
            free.setdefault(name, "inside the function")
    for child in table.get_children():
        _walk_scope(child, allowed, free, declared)


def _first_line(tree: ast.AST, name: str) -> int:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            return node.lineno
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return node.lineno
    return getattr(tree, "lineno", 1)
