"""Checks on strings: format fields, interpreter internals, strings that are evaluated."""

from __future__ import annotations

import ast
from functools import partial
from typing import cast

from .apis import (
    EXPR_ATTR_RE,
    EXPR_CALL_RE,
    EXPRESSION_KEYWORDS,
    FORMATTER,
    INTERNAL_TOKEN_RE,
    PANDAS_EVAL_METHODS,
    RC_DANGER_RE,
)
from .bindings import Resolver
from .evaluated import from_literals_and_columns
from .names import NameChecks
from .nodes import bytes_text, is_dunder, literal_str
from .tables import DANGEROUS_BUILTINS, GETATTR_FAMILY


class StringChecks(NameChecks):
    def visit_constant(self, node: ast.Constant) -> None:
        # the traversal only passes str and bytes constants longer than 4 characters; bytes
        # are inputs too (written to a style file, decoded and evaluated)
        if id(node) not in self.suppressed:
            value = node.value
            text = value if value.__class__ is str else bytes_text(cast(bytes, value))
            self.check_string(text, node)

    def check_string(self, text: str, node: ast.AST) -> None:
        # Every pattern below needs '_' (dunders, frame names) or '.' (format fields, rc keys).
        if "_" not in text and "." not in text:
            return
        match = INTERNAL_TOKEN_RE.search(text)
        if match:
            self.report(
                "AF305",
                node,
                f"String contains '{match.group(0)}', an interpreter internal; as a format "
                "field, getattr name or query/eval string it escapes the analysis API.",
            )
            return
        if "{" in text and "." in text:
            self.check_format_fields(text, node)
        if ("@" in text or "(" in text) and "." in text:
            # Looks like an expression meant for query/eval/formulas: check its attributes.
            for attr in EXPR_ATTR_RE.findall(text):
                if not is_dunder(attr) and self.check_attr_name(attr, node, " in a string"):
                    return
        if "." in text:
            match = RC_DANGER_RE.search(text)
            if match:
                self.report(
                    "AF701",
                    node,
                    f"Matplotlib setting '{match.group(0)}' names a program, a path or TeX.",
                )

    def check_format_fields(self, text: str, node: ast.AST) -> None:
        try:
            parsed = list(FORMATTER.parse(text))
        except (ValueError, IndexError):
            return
        for _literal, field_name, _spec, _conv in parsed:
            if not field_name or "." not in field_name:
                continue
            for attr in EXPR_ATTR_RE.findall(field_name):
                if self.check_attr_name(attr, node, " in a format field"):
                    return

    def check_expression_string(self, text: str, node: ast.AST) -> None:
        """pandas query/eval and formula strings are evaluated: check names in them."""
        for attr in EXPR_ATTR_RE.findall(text):
            if self.check_attr_name(attr, node, " inside an evaluated string"):
                return
        for func in EXPR_CALL_RE.findall(text):
            if func in DANGEROUS_BUILTINS or func in GETATTR_FAMILY or func == "open":
                self.report(
                    "AF305",
                    node,
                    f"Evaluated string calls '{func}', which is not allowed in analysis code.",
                )
                return

    def check_expression_call(self, node: ast.Call, fname: str, receiver: ast.AST | None) -> None:
        """pandas eval/query strings may look up attributes and call methods (`@pd.io...`);
        formula strings (statsmodels/patsy) are evaluated as Python."""
        if fname == "eval" and receiver is None:
            return  # the builtin: AF201 already
        nodes = list(node.args[:1])
        nodes.extend(kw.value for kw in node.keywords if kw.arg in EXPRESSION_KEYWORDS)
        for arg in nodes:
            if arg.__class__ is ast.Constant and isinstance(arg.value, str):
                self.check_expression_string(arg.value, arg)
            elif arg.__class__ is not ast.JoinedStr or not self.check_fstring_names(arg, fname):
                # partial binds this loop's arg, as a default argument would
                self.deferred.append(partial(self.resolve_expression, arg, fname))

    def check_fstring_names(self, arg: ast.JoinedStr, fname: str) -> bool:
        """Literal parts of an f-string checked like a literal; True when something was reported
        (a pandas name assembled from a value: f'@pd.io.{x}')."""
        pandas_eval = fname in PANDAS_EVAL_METHODS
        for i, part in enumerate(arg.values):
            if not (part.__class__ is ast.Constant and isinstance(part.value, str)):
                continue
            self.check_expression_string(part.value, part)
            text = part.value.rstrip()
            follows_value = i > 0 and part.value[:1] in (".", "(")
            if pandas_eval and (text.endswith((".", "@")) or follows_value):
                self.report(
                    "AF305",
                    part,
                    f"'{fname}' string assembles a name from a run-time value: the "
                    "attribute it reaches cannot be checked.",
                    "Interpolate values, not names: df.query('x > @limit'), or use "
                    "boolean indexing df[df['x'] > limit].",
                )
                return True
        return False

    def resolve_expression(self, arg: ast.AST, fname: str, resolve: Resolver) -> None:
        if from_literals_and_columns(arg, resolve):
            return
        if fname in PANDAS_EVAL_METHODS:
            self.report(
                "AF305",
                arg,
                f"'{fname}' with a string built at run time from values that are not literals "
                "or column names: pandas evaluates it, and a value such as '@pd.io.common.os' "
                "would reach any attribute.",
                "Pass a literal expression and refer to values with @: "
                "df.query('revenue > @threshold'); or use boolean indexing "
                "df[df['revenue'] > threshold]. Column names may come from df.columns.",
            )
        else:
            self.report(
                "AF307",
                arg,
                f"Formula for '{fname}' built at run time from values that are not literals or "
                "column names taken from a DataFrame: patsy evaluates formulas as Python.",
            )

    def check_dispatch_by_name(self, node: ast.Call, fname: str) -> None:
        """df.agg('eval', ...) / df.apply('query') call a method named by a string."""
        if node.args:
            name = literal_str(node.args[0])
            if name in PANDAS_EVAL_METHODS:
                self.report(
                    "AF305",
                    node.args[0],
                    f"'{fname}' called with the method name {name!r}: it evaluates strings.",
                )
