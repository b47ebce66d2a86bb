"""CORS and origin checks for registered web platforms, as Appwrite 1.9 does them (``Network\\Cors``).

A browser may only use the API from a web platform registered for the project. Appwrite matches the
``Origin`` by hostname (``*.example.com`` wildcards allowed), echoes the exact origin (never ``*``,
since credentials are allowed), and treats ``127.0.0.1``/``[::1]`` as ``localhost``. A request that
carries an ``Origin`` outside the list and no API key is refused with 403 ``general_unknown_origin``
(Appwrite's application-level CSRF check). Locally the list is ``StackSettings.web_platforms``
(``BIGTECH_LOCAL_WEB_PLATFORMS``, comma-separated hostnames; ``localhost`` by default).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import AppwriteError

LOOPBACK_HOSTNAME = "localhost"
LOOPBACK_ALIASES = frozenset({"127.0.0.1", "[::1]", "::1"})
MAX_AGE_SECONDS = 86400  # Appwrite's default preflight cache
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = ", ".join((
    "Accept", "Origin", "Cookie", "Set-Cookie", "Content-Type", "Content-Range", "X-Appwrite-Project",
    "X-Appwrite-Key", "X-Appwrite-Locale", "X-Appwrite-Mode", "X-Appwrite-JWT", "X-Appwrite-Response-Format",
    "X-Appwrite-Timeout", "X-Appwrite-ID", "X-Appwrite-Timestamp", "X-Appwrite-Session", "X-SDK-Version",
    "X-SDK-Name", "X-SDK-Language", "X-SDK-Platform", "X-SDK-GraphQL", "X-SDK-Profile", "Range",
    "Cache-Control", "Expires", "Pragma", "X-Fallback-Cookies", "X-Requested-With", "X-Forwarded-For",
    "X-Forwarded-User-Agent",
)).lower()  # header names are case-insensitive; lower case as the rest of the stack sends them
EXPOSED_HEADERS = "x-appwrite-session, x-fallback-cookies"


def unknown_origin() -> AppwriteError:
    return AppwriteError(
        403, "general_unknown_origin",
        "The request originated from an unknown origin. If you trust this domain, please list it as a trusted "
        "platform in the Appwrite console.",
    )


class Cors:
    """The project's web platforms: which origins a browser may call the API from."""

    def __init__(self, hostnames: tuple[str, ...] | list[str] = (LOOPBACK_HOSTNAME,)) -> None:
        self.hostnames = tuple(h.strip().lower() for h in hostnames if h and h.strip())

    def allows_host(self, host: str | None) -> bool:
        host = (host or "").strip().lower()
        if not host:
            return False
        if self._listed(host):
            return True
        return host in LOOPBACK_ALIASES and self._listed(LOOPBACK_HOSTNAME)

    def allows_origin(self, origin: str | None) -> bool:
        return self.allows_host(_host_of(origin))

    def headers(self, origin: str | None) -> dict[str, str]:
        """Response headers for ``origin``: the allow-origin echo only when the platform is registered."""
        headers = {
            "access-control-allow-methods": ALLOWED_METHODS,
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-expose-headers": EXPOSED_HEADERS,
            "access-control-allow-credentials": "true",
            "access-control-max-age": str(MAX_AGE_SECONDS),
            "vary": "Origin",  # the answer depends on the Origin: shared caches must not mix them up
        }
        if origin and self.allows_origin(origin):
            headers["access-control-allow-origin"] = origin.strip()
        return headers

    def _listed(self, host: str) -> bool:
        for pattern in self.hostnames:
            if pattern == host or pattern == "*":
                return True
            if pattern.startswith("*.") and host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        return False


def _host_of(origin: str | None) -> str | None:
    if not origin:
        return None
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"}:
        return None
    return parts.hostname


def host_of_url(url: str) -> str | None:
    """The hostname of an http(s) URL, or None when it is not one (redirect URLs are checked with it)."""
    return _host_of(url)
