"""`ToolRegistry()`: an ipywidgets panel over the verified tool registry.

Search, a list with status and version, a detail view (source, docstring, examples,
provenance, versions), deprecate and delete with a confirmation step, and a refresh when
tools.json changes (polled in a daemon thread; `stop()` ends it).
"""

from __future__ import annotations

import html
import threading

import ipywidgets as w

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
                w.HBox([self.deprecate_button, self.delete_button]),
                self.confirm_box,
                self.message,
            ]
        )
        self._seen = self.registry.stat_key()
        self._stop = threading.Event()
        self.refresh()
        if poll_s > 0:
            threading.Thread(target=self._poll, args=(poll_s,), daemon=True).start()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _wire(self) -> None:
        self.search.observe(lambda _: self.refresh(), names="value")
        self.listing.observe(lambda _: self.show_selected(), names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.deprecate_button.on_click(lambda _: self.ask("deprecate"))
        self.delete_button.on_click(lambda _: self.ask("delete"))
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
        self.listing.options = [(f"{t.name}@{t.version} [{t.status}]", t.name) for t in tools]
        names = [t.name for t in tools]
        self.listing.value = selected if selected in names else (names[0] if names else None)
        self.show_selected()

    def show_selected(self) -> None:
        name = self.listing.value
        if name is None:
            self.detail.value = "<i>No tools. Register one with %%agent_tool.</i>"
            return
        tool = self.registry.get(name)
        text = describe_tool(tool, self.registry.versions(name))
        self.detail.value = f"<pre>{html.escape(text)}</pre>"

    # ----- deprecate / delete with confirmation ---------------------------------------------
    def ask(self, action: str) -> None:
        if self.listing.value is None:
            return
        self._pending = (action, self.listing.value)
        self.message.value = f"<b>{html.escape(action)} {html.escape(self.listing.value)}?</b>"
        self.confirm_box.layout.display = "flex"

    def confirm(self) -> None:
        if self._pending is None:
            return
        action, ref = self._pending
        try:
            if action == "deprecate":
                self.registry.deprecate(ref)
            else:
                self.registry.remove(ref)
            self.message.value = f"{html.escape(action)}d {html.escape(ref)}"
        except ToolError as exc:
            self.message.value = f"<b>failed:</b> {html.escape(str(exc))}"
        self.cancel(keep_message=True)
        self.refresh()

    def cancel(self, keep_message: bool = False) -> None:
        self._pending = None
        self.confirm_box.layout.display = "none"
        if not keep_message:
            self.message.value = ""

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
            except Exception:
                continue

    def stop(self) -> None:
        self._stop.set()

    def __repr__(self) -> str:
        return f"ToolRegistry panel ({len(self.listing.options)} tools)"
