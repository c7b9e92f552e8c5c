"""What every AgentForge API handler shares: authentication, JSON in and out, and errors as
`{"error": message}` with the status that fits the exception."""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..brains.errors import BrainConfigError, BrainError, DuplicateBrainError, UnknownBrainError
from ..datasets import DuplicateDatasetError, UnknownDatasetError
from ..errors import AgentForgeError
from ..tools.model import ToolNotFoundError, ToolRejectedError
from .errors import RunNotFoundError, RunStateError, TooManyRunsError

if TYPE_CHECKING:
    from .extension import Services

log = logging.getLogger(__name__)

#: Ids of runs and training jobs: the same shape `StateDir` accepts, checked before any path is
#: built (a request must never name a path outside the state directory).
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

# Most specific first: the first class an exception is an instance of decides its status.
_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (UnknownDatasetError, 404),
    (ToolNotFoundError, 404),
    (UnknownBrainError, 404),
    (RunNotFoundError, 404),
    (RunStateError, 409),
    (TooManyRunsError, 429),
    (DuplicateDatasetError, 409),
    (DuplicateBrainError, 409),
    (ToolRejectedError, 422),
    (BrainConfigError, 400),
    (BrainError, 502),  # the brain's endpoint failed, not the request
    (AgentForgeError, 400),
)


class ApiError(web.HTTPError):
    """An error with a message meant for the user (sent as `{"error": message}`)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, reason=HTTPStatus(status).phrase)
        self.message = message
        self.extra = extra


def status_for(exc: BaseException) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def check_id(value: str, what: str) -> str:
    if not ID_RE.match(value) or ".." in value:
        raise ApiError(400, f"{value!r} is not a valid {what} id (letters, digits, '_', '-', '.')")
    return value


class AgentForgeHandler(APIHandler):
    """Base of every handler: Jupyter's authentication and XSRF checks (APIHandler answers 403,
    never a login redirect), JSON bodies, and AgentForge errors mapped to HTTP statuses."""

    @property
    def services(self) -> Services:
        return self.settings["agentforge"]

    def json_body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body)
        except ValueError as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return data

    def send(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str, ensure_ascii=False))

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"{name} must be an integer, not {raw!r}") from None
        if not low <= value <= high:
            raise ApiError(400, f"{name} must be between {low} and {high}, not {value}")
        return value

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # User errors are answers, not server faults: log them briefly; log real bugs in full.
        if isinstance(value, ApiError) or (
            value is not None and not isinstance(value, web.HTTPError) and status_for(value) < 500
        ):
            log.info("%s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    def _handle_request_exception(self, e: BaseException) -> None:
        # Typed AgentForge errors get their own status instead of tornado's 500.
        if not isinstance(e, web.HTTPError) and status_for(e) < 500 and not self._finished:
            self.log_exception(type(e), e, e.__traceback__)
            extra = {"report": e.report.to_dict()} if isinstance(e, ToolRejectedError) else {}
            self._write_json_error(status_for(e), str(e), **extra)
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        extra: dict[str, Any] = {}
        if isinstance(exc, ApiError):
            message, extra = exc.message, exc.extra
        elif isinstance(exc, web.HTTPError):
            message = exc.log_message or exc.reason or HTTPStatus(status_code).phrase
        elif exc is not None and status_for(exc) >= 500:
            message = f"internal error ({type(exc).__name__}); see the server log"
        else:
            message = self._reason
        self._write_json_error(status_code, message, **extra)

    def _write_json_error(self, status: int, message: str, **extra: Any) -> None:
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message, **extra}, default=str, ensure_ascii=False))
