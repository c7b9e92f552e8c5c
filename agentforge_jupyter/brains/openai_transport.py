"""The HTTP plumbing under `OpenAIBrain`: the shared TLS context, which transport errors to
catch, and which request variants to try against an endpoint that may refuse a feature."""

from __future__ import annotations

import os
import ssl
from typing import Any

__all__ = ["REJECTED_STATUSES", "request_variants", "ssl_context", "transport_errors"]

# Statuses with which servers refuse a request feature (stream, stream_options,
# response_format); the request is then retried without it.
REJECTED_STATUSES = {400, 415, 422, 501}

_SSL_CONTEXTS: dict[tuple[str, str], ssl.SSLContext] = {}


def ssl_context() -> ssl.SSLContext | None:
    """The HTTP library's default TLS context, built once per CA-bundle setting."""
    key = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    if key not in _SSL_CONTEXTS:
        for module_name in ("httpx2", "httpx"):
            try:
                module = __import__(module_name)
                _SSL_CONTEXTS[key] = module.create_ssl_context()
                break
            except (ImportError, AttributeError, TypeError, OSError, ssl.SSLError):
                continue
        else:
            return None
    return _SSL_CONTEXTS[key]


def transport_errors(*also: type[BaseException]) -> tuple[type[BaseException], ...]:
    """``also`` followed by the HTTP library's transport errors (built here rather than by
    unpacking into an ``except`` tuple, which type checkers cannot follow)."""
    # The openai client wraps most transport errors, but not those raised while iterating a
    # stream; its HTTP library is httpx2 in current versions and httpx in older ones.
    found: list[type[BaseException]] = list(also)
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        found.append(module.HTTPError)
        found.append(module.StreamError)
    return tuple(found)


def request_variants(
    unsupported: set[str], *, streaming: bool, rf: dict[str, Any] | None
) -> list[tuple[set[str], dict[str, Any]]]:
    """The (features, extra request parameters) to try in order: the richest request first,
    then without each feature a server may refuse; features in ``unsupported`` are not
    offered again."""
    modes: list[tuple[set[str], dict[str, Any]]] = []
    if streaming and "stream" not in unsupported:
        if "stream_usage" not in unsupported:
            modes.append(({"stream", "stream_usage"}, {"stream_options": {"include_usage": True}}))
        modes.append(({"stream"}, {}))
    modes.append((set(), {}))
    if rf is None or "json_schema" in unsupported:
        return modes
    with_rf = [(f | {"json_schema"}, {**extra, "response_format": rf}) for f, extra in modes]
    return with_rf + modes
