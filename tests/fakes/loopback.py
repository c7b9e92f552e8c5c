"""The loopback HTTP server every fake shares: a ThreadingHTTPServer on 127.0.0.1 (a free
port) in a daemon thread, started and stopped as a context manager, and a handler base that
answers JSON without logging to stderr."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar

Server = TypeVar("Server", bound="LoopbackServer")


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no stderr log, and `_json`/`_send` that survive a client hanging up."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY a keep-alive client
    # waits ~40 ms for each reply (Nagle's algorithm against delayed ACKs).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    def read_json(self) -> tuple[bytes, Any]:
        """The raw body and its JSON value (None when empty or not JSON)."""
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            return raw, (json.loads(raw) if raw else None)
        except ValueError:
            return raw, None

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class LoopbackServer:
    """Serve ``handler_class`` (bound to this fake as ``handler.fake``) on 127.0.0.1.

    Subclasses set ``handler_class`` and ``url_path`` and may extend ``stop`` to release what
    their handlers wait on."""

    handler_class: ClassVar[type[QuietHandler]]
    url_path: ClassVar[str] = ""
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self: Server) -> Server:
        handler = type("Handler", (self.handler_class,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.05,),
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self: Server) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.url_path}"
