"""pytest-jupyter's server fixtures (`jp_fetch`, `jp_serverapp`, ...) for the modules that star-
import this one. Imported rather than loaded with `pytest_plugins`: a plugin would be active for
the whole session, and its autouse fixtures and coroutine runner would then reach every test."""

from pytest_jupyter.jupyter_server import *  # noqa: F403
