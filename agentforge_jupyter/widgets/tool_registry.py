"""`ToolRegistry()`: an ipywidgets panel over the verified tool registry.

Search, a list with status and version, a detail view (source, docstring, examples,
provenance, versions), deprecate and delete with a confirmation step, insert into the notebook
after the source was shown (and gated on the host), and a refresh when tools.json changes
(polled in a daemon thread; `stop()` ends it). "Verified" means the doctests passed inside the
sandbox; the panel says so, because a tool can behave differently outside it.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from ..gate import gate_code
from ..render import message_html, render
from ..state import StateDir
from ..tools import ToolError, describe_tool
from ..tools import ToolRegistry as Registry


class ToolRegistry:
    """The registry panel. `display(ToolRegistry())` or just leave it as a cell's value."""

    def __init__(self, state: StateDir | str | None = None, *, poll_s: float = 2.0) -> None:
        store = state if isinstance(state, StateDir) else StateDir(state)
        self.registry = Registry(store)
        self.search = w.Text(
            placeholder="search tools (name, docstring, tags, parameters)",
            continuous_update=False,
            layout=w.Layout(width="60%"),
        )
        self.listing = w.Select(options=[], rows=10, layout=w.Layout(width="40%"))
        self.detail = w.HTML()
        self.message = w.HTML()
        self.deprecate_button = w.Button(description="Deprecate", icon="archive")
        self.delete_button = w.Button(description="Delete", icon="trash", button_style="danger")
        self.insert_button = w.Button(description="Insert into notebook", icon="file-import")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.confirm_button = w.Button(description="Confirm", button_style="warning")
        self.cancel_button = w.Button(description="Cancel")
        self.confirm_box = w.HBox(
            [self.confirm_button, self.cancel_button], layout=w.Layout(display="none")
        )
        self._pending: tuple[str, str] | None = None  # (action, ref) awaiting confirmation
        self._wire()
        self.widget = w.VBox(
            [
                w.HBox([self.search, self.refresh_button]),
                w.HBox([self.listing, self.detail]),
                w.HBox([self.insert_button, self.deprecate_button, self.delete_button]),
                self.confirm_box,
                self.message,
            ]
        )
        self._seen = self.registry.stat_key()
        self._stop = threading.Event()
        self.poll_errors = 0
        self.refresh()
        self.thread: threading.Thread | None = None
        if poll_s > 0:
            self.thread = threading.Thread(
                target=self._poll, args=(poll_s,), name="agentforge-tool-panel", daemon=True
            )
            self.thread.start()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _wire(self) -> None:
        self.search.observe(lambda _: self.refresh(), names="value")
        self.listing.observe(lambda _: self.show_selected(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.deprecate_button.on_click(lambda _: self.ask("deprecate"))
        self.delete_button.on_click(lambda _: self.ask("delete"))
        self.insert_button.on_click(lambda _: self.ask("insert"))
        self.confirm_button.on_click(lambda _: self.confirm())
        self.cancel_button.on_click(lambda _: self.cancel())

    # ----- listing ------------------------------------------------------------------------
    def refresh(self) -> None:
        query = self.search.value.strip()
        if query:
            tools = [self.registry.get(h.ref) for h in self.registry.retrieve(query, k=20)]
        else:
            tools = self.registry.list()
        selected = self.listing.value
        self.listing.options = [(f"{t.name}@{t.version} [{t.trust_label}]", t.name) for t in tools]
        names = [t.name for t in tools]
        self.listing.value = selected if selected in names else (names[0] if names else None)
        self.show_selected()

    def show_selected(self) -> None:
        name = self.listing.value
        if name is None:
            self.detail.value = render("tool_detail.html.j2", text=None)
            return
        tool = self.registry.get(name)
        text = describe_tool(tool, self.registry.versions(name))
        self.detail.value = render("tool_detail.html.j2", text=text)

    # ----- deprecate / delete with confirmation ---------------------------------------------
    def ask(self, action: str) -> None:
        if self.listing.value is None:
            return
        ref = self.listing.value
        source = self.registry.get(ref).source if action == "insert" else ""
        self._pending = (action, ref)
        self.message.value = render("tool_confirm.html.j2", action=action, ref=ref, source=source)
        self.confirm_box.layout.display = "flex"

    def confirm(self) -> None:
        if self._pending is None:
            return
        action, ref = self._pending
        try:
            if action == "insert":
                self.message.value = self.insert(ref)
            elif action == "deprecate":
                self.registry.deprecate(ref)
                self.message.value = message_html("deprecated", name=ref)
            else:
                self.registry.remove(ref)
                self.message.value = message_html("deleted", name=ref)
        except ToolError as exc:
            self.message.value = message_html("failed:", text=str(exc))
        self.cancel(keep_message=True)
        self.refresh()

    def cancel(self, keep_message: bool = False) -> None:
        self._pending = None
        self.confirm_box.layout.display = "none"
        if not keep_message:
            self.message.value = ""

    def insert(self, ref: str, shell: Any = None) -> str:
        """Put the tool's source in a new cell below (gated on the host); returns the notice."""
        if shell is None:
            from IPython import get_ipython

            shell = get_ipython()
        if shell is None:
            return message_html("not inserted:", text="no IPython shell is running")
        gated = gate_code(self.registry.get(ref).source)
        shell.set_next_input(gated.source, replace=False)
        if gated.blocked:
            return message_html(
                "inserted commented out:",
                name=ref,
                text="host-side lint found errors",
                items=gated.reasons(),
            )
        return message_html("inserted", name=ref, text="in a new cell below")

    # ----- watching the file --------------------------------------------------------------
    def changed(self) -> bool:
        """True (and refreshed) when tools.json changed since the last look."""
        key = self.registry.stat_key()
        if key == self._seen:
            return False
        self._seen = key
        self.refresh()
        return True

    def _poll(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.changed()
            except Exception as exc:  # e.g. a corrupt tools.json: say so, keep watching
                self.poll_errors += 1
                self.message.value = message_html("refresh failed:", text=str(exc))

    def stop(self, timeout: float = 5.0) -> None:
        """End the refresh thread (and wait for it, up to `timeout` seconds)."""
        self._stop.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def __repr__(self) -> str:
        return f"ToolRegistry panel ({len(self.listing.options)} tools)"
