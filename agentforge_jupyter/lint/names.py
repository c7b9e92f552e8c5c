"""Checks on names and imports: modules, builtins, dunders, attributes, getattr."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .apis import ATTR_TRIGGERS, IPY_MAGIC, IPY_SHELL, PANDAS_EVAL_METHODS, RC_NAMES
from .base import CheckerBase
from .nodes import import_hint, is_dunder, literal_str
from .tables import (
    ATTRGETTERS,
    BLOCKED_ATTRIBUTES,
    DANGEROUS_BUILTINS,
    EXEC,
    FRAME_ATTRIBUTES,
    GETATTR_FAMILY,
    INTERACTIVE_BUILTINS,
    INTRO,
    NAMESPACE_DUNDERS,
)


class NameChecks(CheckerBase):
    if TYPE_CHECKING:
        # Provided by OptionChecks, the sibling mixin both are combined with in CallChecks.
        def report_rc_alias(self, node: ast.AST) -> None: ...

    # attribute names (direct, via getattr/attrgetter, in match patterns) ---------------------
    def check_attr_name(self, name: str, node: ast.AST, how: str = "") -> bool:
        """Report a forbidden attribute name; True when something was reported."""
        if is_dunder(name):
            if name in self.policy.safe_dunder_attributes:
                return False
            self.report(
                "AF301",
                node,
                f"Access to dunder attribute '{name}'{how} is not allowed: dunder attributes "
                "lead from any object to classes, globals and builtins.",
            )
            return True
        if name in FRAME_ATTRIBUTES:
            self.report(
                "AF302",
                node,
                f"Attribute '{name}'{how} reaches frames or code objects, and through them "
                "the globals of other code.",
            )
            return True
        blocked = BLOCKED_ATTRIBUTES.get(name)
        if blocked is not None and not self.policy.unblocked(name):
            code, reach = blocked
            self.report(code, node, f"Attribute '{name}'{how} reaches {reach}.")
            return True
        return False

    # handlers ----------------------------------------------------------------------------
    def visit_import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module_path(alias.name, node)
            local = alias.asname or alias.name.split(".")[0]
            self.aliases[local] = alias.name if alias.asname else local

    def visit_import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.report(
                "AF102",
                node,
                f"Relative import 'from {'.' * node.level}{node.module or ''} import ...' is "
                "not allowed.",
            )
            return
        module = node.module or ""
        if not self.check_module_path(module, node):
            return
        for alias in node.names:
            if alias.name == "*":
                self.report("AF104", node, f"'from {module} import *' is not allowed.")
                continue
            self.check_imported_name(module, alias.name, node)
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            renamed = alias.asname is not None and alias.asname != alias.name
            if renamed and alias.name in RC_NAMES:
                self.report_rc_alias(node)
            elif renamed and alias.name in ATTRGETTERS:
                self.report(
                    "AF304",
                    node,
                    f"'{alias.name}' imported under another name: its uses cannot be checked.",
                    f"Import it as '{alias.name}' and call it with literal names.",
                )

    def check_module_path(self, dotted: str, node: ast.AST) -> bool:
        parts = dotted.split(".")
        top = parts[0]
        if not self.policy.import_allowed(top):
            self.report(
                "AF101",
                node,
                f"Import of '{top}' is not allowed: it is not in the import allow-list.",
                import_hint(top),
            )
            return False
        for part in parts[1:]:
            if not self.check_imported_name(dotted, part, node):
                return False
        if dotted == "matplotlib.testing" or dotted.startswith("matplotlib.testing."):
            self.report(
                "AF103",
                node,
                f"Import of '{dotted}' is not allowed: it runs external converters.",
            )
            return False
        return True

    def check_imported_name(self, module: str, name: str, node: ast.AST) -> bool:
        if is_dunder(name) and name not in self.policy.safe_dunder_attributes:
            self.report("AF103", node, f"Import of '{name}' from '{module}' is not allowed.")
            return False
        blocked = BLOCKED_ATTRIBUTES.get(name)
        if name in FRAME_ATTRIBUTES:
            blocked = ("AF302", INTRO)
        elif name in PANDAS_EVAL_METHODS or (name == "measure" and "testing" in module):
            # a bare pandas eval/query or numpy.testing.measure hides that strings are evaluated
            blocked = ("AF103", EXEC)
        if blocked is not None and not self.policy.unblocked(name):
            self.report(
                "AF103",
                node,
                f"Import of '{name}' from '{module}' is not allowed: it reaches {blocked[1]}.",
            )
            return False
        return True

    def visit_name(self, node: ast.Name) -> None:
        name = node.id  # the traversal only passes names in NAME_TRIGGERS or starting with '__'
        if id(node) in self.suppressed:
            return
        is_load = not isinstance(node.ctx, ast.Store)
        reason = DANGEROUS_BUILTINS.get(name)
        if reason is not None:
            if is_load:
                self.report(
                    "AF201",
                    node,
                    f"Use of builtin '{name}' is not allowed (it {reason}), in a call or as a "
                    "value.",
                )
        elif is_dunder(name):
            if name in NAMESPACE_DUNDERS or (is_load and name not in self.policy.safe_dunder_names):
                self.report("AF202", node, f"Use of the name '{name}' is not allowed.")
        elif is_load:
            self.check_loaded_name(node, name)

    def check_loaded_name(self, node: ast.Name, name: str) -> None:
        as_value = id(node) not in self.called
        if name in GETATTR_FAMILY or name in ATTRGETTERS:
            if as_value:
                self.report(
                    "AF304",
                    node,
                    f"'{name}' used as a value: the attribute name it will look up cannot be "
                    "checked.",
                )
        elif name == "open":
            if as_value:
                self.report("AF502", node, "'open' used as a value: its path cannot be checked.")
        elif name == "get_ipython":
            self.report("AF403", node, "get_ipython() is not allowed.")
        elif name in INTERACTIVE_BUILTINS:
            self.report("AF203", node, f"'{name}' is interactive or ends the kernel.")
        elif name in ("read_pickle", "load_pickle", "Unpickler"):
            self.report("AF601", node, f"'{name}' loads pickle data, which runs code.")

    def visit_attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name not in ATTR_TRIGGERS and name[:2] != "__":
            return
        if id(node) in self.suppressed:
            return
        if self.check_attr_name(name, node):
            return
        if name == "measure":
            # numpy.testing.measure(code_str) executes a string; df.measure is a column.
            parent = node.value
            if parent.__class__ is ast.Attribute and parent.attr == "testing":
                self.report("AF201", node, "'testing.measure' runs a string as code.")
            return
        if name in ATTRGETTERS and id(node) not in self.called:
            self.report(
                "AF304", node, f"'{name}' used as a value: the names it looks up are unchecked."
            )

    def visit_match_class(self, node: ast.AST) -> None:
        for attr in getattr(node, "kwd_attrs", ()):
            self.check_attr_name(attr, node, " in a match pattern")

    def check_get_ipython(self, node: ast.Call, fname: str, receiver: ast.AST) -> bool:
        if not (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "get_ipython"
        ):
            return False
        self.suppressed.add(id(receiver.func))
        arg = literal_str(node.args[0]) if node.args else None
        if fname in IPY_SHELL:
            shown = f" '!{arg}'" if arg is not None else ""
            self.report("AF401", node, f"Shell escape{shown} is not allowed.")
        elif fname in IPY_MAGIC:
            prefix = "%%" if fname == "run_cell_magic" else "%"
            shown = f" '{prefix}{arg}'" if arg is not None else ""
            self.report("AF402", node, f"IPython magic{shown} is not allowed.")
        else:
            self.report("AF403", node, f"get_ipython().{fname} is not allowed.")
        return True

    def check_getattr_call(self, node: ast.Call, fname: str) -> None:
        if len(node.args) < 2:
            if node.args and isinstance(node.args[0], ast.Starred):
                self.report("AF304", node, f"{fname}() with unpacked arguments is unchecked.")
            return
        name_arg = node.args[1]
        literal = literal_str(name_arg)
        if literal is None:
            self.report(
                "AF304",
                node,
                f"{fname}() with a computed attribute name: the name cannot be checked.",
            )
            return
        self.suppressed.add(id(name_arg))
        if not self.check_attr_name(literal, name_arg, f" (via {fname})"):
            self.check_eval_method_name(literal, name_arg, fname)

    def check_attrgetter_call(self, node: ast.Call, fname: str) -> None:
        args = node.args[:1] if fname == "methodcaller" else node.args
        for arg in args:
            literal = literal_str(arg)
            if literal is None:
                self.report(
                    "AF304", node, f"{fname}() with a computed name: the name cannot be checked."
                )
                return
            self.suppressed.add(id(arg))
            for part in literal.split("."):
                if self.check_attr_name(part, arg, f" (via {fname})"):
                    return
                if self.check_eval_method_name(part, arg, fname):
                    return

    def check_eval_method_name(self, name: str, node: ast.AST, fname: str) -> bool:
        if name not in PANDAS_EVAL_METHODS:
            return False
        self.report(
            "AF305",
            node,
            f"'{name}' reached through {fname}(): it evaluates strings that cannot be checked.",
        )
        return True
