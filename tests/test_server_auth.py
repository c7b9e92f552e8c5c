"""Every AgentForge handler refuses a request without a token (403) and a cookie-authenticated
POST or DELETE without the XSRF token; the handlers are found by walking the running server's
routing table, so a new route cannot escape the check."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from .server_fixtures import *  # noqa: F403  (run, jp_server_config, jp_fetch, ...)

METHODS = ("get", "post", "delete", "put", "patch")


def agentforge_routes(web_app) -> list[tuple[str, type]]:
    """(regex, handler class) of every registered AgentForge handler."""
    found = []
    stack = list(web_app.default_router.rules) + list(web_app.wildcard_router.rules)
    while stack:
        rule = stack.pop()
        target = rule.target
        if hasattr(target, "rules"):
            stack.extend(target.rules)
        elif isinstance(target, type) and target.__module__.startswith("agentforge_jupyter."):
            found.append((rule.matcher.regex.pattern, target))
    return found


def concrete(pattern: str) -> str:
    path = re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "x", pattern)
    return path.replace("/?$", "").replace("$", "")


def methods_of(handler: type) -> list[str]:
    return [
        m
        for m in METHODS
        if any(
            m in vars(k)
            for k in handler.__mro__[:-1]
            if k.__module__.startswith("agentforge_jupyter.")
        )
    ]


async def fetch(url: str, method: str, headers: dict[str, str]) -> int:
    body = b"{}" if method in ("post", "put", "patch") else None
    request = HTTPRequest(
        url,
        method=method.upper(),
        headers=headers,
        body=body,
        request_timeout=30,
        follow_redirects=False,
    )
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    return response.code


async def login_cookies(root: str, token: str) -> dict[str, str]:
    request = HTTPRequest(f"{root}api/status?token={token}", follow_redirects=False)
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    cookies: dict[str, str] = {}
    for header in response.headers.get_list("Set-Cookie"):
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value
    return cookies


def test_every_handler_requires_auth_and_xsrf(
    jp_serverapp, jp_fetch, jp_http_port, jp_base_url, run
) -> None:
    run(_every_handler(jp_serverapp, jp_fetch, jp_http_port, jp_base_url))


async def _every_handler(jp_serverapp, jp_fetch, jp_http_port, jp_base_url) -> None:
    assert (await jp_fetch("agentforge", "api", "brains")).code == 200  # serving, with a token
    routes = agentforge_routes(jp_serverapp.web_app)
    assert len(routes) == 19, routes
    origin = f"http://127.0.0.1:{jp_http_port}"
    root = f"{origin}{jp_base_url}"
    token = jp_serverapp.identity_provider.token
    cookies = await login_cookies(root, token)
    login = "; ".join(f"{k}={v}" for k, v in cookies.items() if k.startswith("username-"))
    assert login, f"no login cookie was set: {cookies}"

    checked = 0
    for pattern, handler in routes:
        url = origin + concrete(pattern)
        for method in methods_of(handler):
            assert await fetch(url, method, {}) == 403, (method, url)
            assert await fetch(url, method, {"Authorization": "token wrong"}) == 403
            if method != "get":
                # A cookie alone (what a page on another site could send) must not do.
                code = await fetch(url, method, {"Cookie": login})
                assert code == 403, (method, url, code)
            checked += 1
    assert checked >= 24

    # The same cookie with the XSRF token is accepted (so the 403s above were about XSRF).
    xsrf = "2|abcdef12|0123456789abcdef0123456789abcdef|1700000000"
    headers = {"Cookie": f"{login}; _xsrf={xsrf}", "X-XSRFToken": xsrf}
    code = await fetch(f"{root}agentforge/api/runs", "post", headers)
    assert code == 400  # past auth and XSRF: the body has no goal
    assert await fetch(f"{root}agentforge/api/datasets", "get", {"Cookie": login}) == 200
