"""Calls: generic argument checks, then handlers looked up by the called name.

`visit_call` checks what any call can carry (URLs, host paths, rcParams passed on, keyword
arguments), then runs the handlers registered for the called name in `CALL_HANDLERS` (and for
the `read_`/`to_`/`fetch_` prefixes). A new rule about a call adds a method and a table row.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from .apis import (
    CALL_PREFIXES,
    CALL_TRIGGERS,
    DISPATCH_BY_NAME,
    EXPR_STRING_APIS,
    EXTERNAL_WRITERS,
    FILE_APIS,
    NETWORK_HELPERS,
    PATH_METHOD_WRITES,
    PATH_MOVES,
    PATH_STARTS,
    PLOT_CALLS,
    STARSTAR_LOADERS,
    VALUE_CHECKED,
    WRITE_APIS,
)
from .files import FileChecks
from .nodes import (
    bytes_text,
    dotted,
    effective_keywords,
    is_false,
    is_file_api,
    is_rc_object,
    literal_str,
)
from .options import OptionChecks
from .strings import StringChecks
from .tables import ATTRGETTERS, GETATTR_FAMILY
from .writes import WriteChecks

Receiver = ast.AST | None


class CallChecks(StringChecks, OptionChecks, FileChecks, WriteChecks):
    def visit_call(self, node: ast.Call) -> None:
        func = node.func
        if func.__class__ is ast.Attribute:
            fname, receiver = func.attr, func.value
        elif func.__class__ is ast.Name:
            fname, receiver = func.id, None
        else:
            fname, receiver = "", None
        if fname in VALUE_CHECKED:
            self.called.add(id(func))  # getattr(...) / open(...) are calls, not values
        for arg in node.args:
            self.check_call_argument(arg, fname)
        if node.keywords:
            self.check_keywords(node, fname, receiver)
        if fname not in CALL_TRIGGERS and not fname.startswith(CALL_PREFIXES):
            return
        if receiver is not None and self.check_get_ipython(node, fname, receiver):
            self.suppressed.add(id(func))  # `.system` here is the shell escape already reported
            return
        for handler in CALL_HANDLERS.get(fname, ()):
            handler(self, node, fname, receiver)
        for prefix, handlers in PREFIX_HANDLERS:
            if fname.startswith(prefix) and fname not in FILE_APIS:
                for handler in handlers:
                    handler(self, node, fname, receiver)

    def check_call_argument(self, arg: ast.AST, fname: str) -> None:
        cls = arg.__class__
        if cls is ast.Constant:
            value = arg.value  # type: ignore[attr-defined]
            if value.__class__ is bytes:
                value = bytes_text(value)  # b'/etc/passwd' opens as well as '/etc/passwd'
            if value.__class__ is str:
                if "://" in value:
                    self.check_url(arg)
                elif value[:1] in PATH_STARTS and not is_file_api(fname):
                    self.check_any_path(arg, value, fname)
        elif cls is ast.JoinedStr or cls is ast.BinOp:
            self.check_url(arg)
        elif (cls is ast.Attribute or cls is ast.Name) and is_rc_object(arg):
            self.report_rc_alias(arg)

    def check_keywords(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        """URLs in keyword values, allow_pickle that is not literally False, TeX and plotting
        backends chosen per call; literal `**{...}` mappings are read like keywords."""
        pairs, opaque = effective_keywords(node)
        for arg, value in pairs:
            cls = value.__class__
            if cls is ast.JoinedStr or cls is ast.BinOp or cls is ast.Constant:
                self.check_url(value)
            if arg == "allow_pickle" and not is_false(value):
                self.report(
                    "AF601",
                    value,
                    "allow_pickle that is not literally False lets the file run code on load.",
                )
            elif arg == "usetex" and not is_false(value):
                self.report("AF702", value, "usetex=True runs LaTeX, which the sandbox lacks.")
            elif arg == "backend" and _is_pandas_plot(fname, receiver):
                self.check_plotting_backend(value, value)
        for value in opaque:
            self.check_opaque_keywords(value, fname, receiver)

    def check_opaque_keywords(self, value: ast.AST, fname: str, receiver: Receiver) -> None:
        """`**name` (or a mapping with computed keys) given to a loader or a pandas plot."""
        if fname in STARSTAR_LOADERS or fname.startswith("read_"):
            self.report(
                "AF601",
                value,
                f"Keyword arguments passed to '{fname}' through ** cannot be checked: one of "
                "them could be allow_pickle=True, which runs code from the file.",
                f"Write the keyword arguments out: {fname}(..., allow_pickle=False), or "
                "**{'key': value} with literal keys.",
            )
        elif _is_pandas_plot(fname, receiver) and not self.is_pyplot(receiver):
            self.report(
                "AF105",
                value,
                f"Keyword arguments passed to '{fname}' through ** cannot be checked: "
                "backend=... would import a module by name.",
                "Write the keyword arguments out (df.plot(kind='bar', color='C0')), or use "
                "**{'color': 'C0'} with literal keys.",
            )

    def is_pyplot(self, receiver: Receiver) -> bool:
        """matplotlib's own plot functions (plt, ax, fig by convention) take **style freely."""
        if receiver.__class__ is not ast.Name:
            return False
        name = receiver.id
        return self.aliases.get(name, "").startswith("matplotlib") or name.startswith(
            _MATPLOTLIB_NAMES
        )

    # handlers by called name, all (node, fname, receiver) -----------------------------------
    def on_getattr(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        if receiver is not None:
            return
        self.check_getattr_call(node, fname)
        name = literal_str(node.args[1]) if len(node.args) > 2 else None
        if fname == "setattr" and name is not None and name.split(".")[-1] in _OPTION_NAMES:
            self.check_plotting_backend(node.args[2], node)  # setattr(pd.options.plotting, ...)

    def on_attrgetter(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.check_attrgetter_call(node, fname)

    def on_format(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        if isinstance(receiver, (ast.BinOp, ast.JoinedStr, ast.Call)):
            self.report("AF306", node, "Format string built at run time: its fields are unchecked.")

    def on_dispatch(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.check_dispatch_by_name(node, fname)

    def on_network(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.report("AF505", node, f"'{fname}' downloads data over the network.")

    def on_rc_update(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        if receiver is not None and is_rc_object(receiver):
            self.check_rc_update(node)

    def on_rc_call(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.check_rc_call(node, fname)

    def on_use(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        is_style = receiver is not None and dotted(receiver).endswith("style")
        if is_style and node.args:
            self.check_style(node.args[0])
        elif not is_style and fname != "context":
            backend = node.args[0] if node.args else None
            for kw in node.keywords:
                if kw.arg in ("backend", "newbackend", None):
                    backend = kw.value
            if backend is not None:
                self.check_mpl_backend(backend)

    def on_set_option(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.check_set_option(node)

    def on_save(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.check_external_writer(node)

    def on_external_writer(self, node: ast.Call, fname: str, receiver: Receiver) -> None:
        self.report("AF702", node, f"'{fname}' runs an external program.")


_MATPLOTLIB_NAMES = ("plt", "ax", "fig")
_OPTION_NAMES = frozenset({"backend", "plotting"})


def _is_pandas_plot(fname: str, receiver: Receiver) -> bool:
    return fname in PLOT_CALLS or (receiver.__class__ is ast.Attribute and receiver.attr == "plot")


Handler = Callable[[CallChecks, ast.Call, str, Receiver], None]


def _table(rows: list[tuple[frozenset[str] | set[str], Handler]]) -> dict[str, tuple[Handler, ...]]:
    table: dict[str, tuple[Handler, ...]] = {}
    for names, handler in rows:
        for name in names:
            table[name] = (*table.get(name, ()), handler)
    return table


CALL_HANDLERS = _table(
    [
        (GETATTR_FAMILY, CallChecks.on_getattr),
        (ATTRGETTERS, CallChecks.on_attrgetter),
        (FILE_APIS, CallChecks.check_file_call),
        ({*WRITE_APIS, *PATH_METHOD_WRITES, *PATH_MOVES}, CallChecks.check_write_call),
        ({"format", "format_map"}, CallChecks.on_format),
        (EXPR_STRING_APIS, CallChecks.check_expression_call),
        (DISPATCH_BY_NAME, CallChecks.on_dispatch),
        (NETWORK_HELPERS, CallChecks.on_network),
        ({"load", "loads"}, CallChecks.check_load_call),
        ({"update", "setdefault", "_set"}, CallChecks.on_rc_update),
        ({"rc", "rc_context", "rc_file"}, CallChecks.on_rc_call),
        ({"use", "switch_backend", "context"}, CallChecks.on_use),
        ({"set_option", "option_context"}, CallChecks.on_set_option),
        ({"save", "savefig", "print_figure"}, CallChecks.on_save),
        (EXTERNAL_WRITERS, CallChecks.on_external_writer),
    ]
)
# read_*/to_* are file APIs (to_* that write are also in WRITE_APIS); fetch_* download.
PREFIX_HANDLERS: tuple[tuple[str, tuple[Handler, ...]], ...] = (
    ("read_", (CallChecks.check_file_call,)),
    ("to_", (CallChecks.check_file_call,)),
    ("fetch_", (CallChecks.on_network,)),
)
