"""The outbound-URL guard: every URL a tenant or a webhook can influence goes through here.

A tenant can type a fonte's ``base_url``, a gateway's JWKS URL or (later) a webhook endpoint, and the
function then sends secrets (the provider token) and personal data (the document) to it. Without a
guard that is server-side request forgery: ``http://127.0.0.1:…``, ``http://169.254.169.254/…`` or a
hostname that resolves to either would receive the token and have its answer shown to the tenant.

The rules (``docs/security.md`` § Outbound requests):

- ``https`` only, unless ``BIGTECH_ENV`` is ``development`` or ``test`` (an unset variable is
  production); no credentials in the URL;
- a plugin whose manifest lists ``outbound_hosts`` may reach only those hosts (exact names, or
  ``*.example.com`` for subdomains);
- the host's addresses (IPv4 and IPv6, IPv4-mapped, 6to4, Teredo and NAT64 forms unwrapped) must all
  be public: private, loopback, link-local, multicast, unspecified, reserved, shared (CGNAT) and
  cloud-metadata addresses are refused;
- the connection goes to the very address that was checked (``GuardedTransport`` resolves, checks
  and connects in one step), so a DNS answer that changes between check and connect (rebinding)
  cannot swap it; no redirect is followed and no environment proxy is used;
- the only way to reach a private or loopback address is ``BIGTECH_OUTBOUND_ALLOW_HOSTS``: an
  explicit comma-separated list of ``host`` or ``host:port`` (``[::1]:8080`` for IPv6), empty by
  default everywhere. A listed host is an explicit operator exception: it also skips the manifest
  allow-list and the https rule (tests' local receivers speak plain http).

``check_url`` is the configuration-time check (a 422 naming the field); ``guarded_client`` is the
fetch-time one: an ``httpx.Client`` whose every connection is checked, raising ``OutboundRefused``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
from dotenv import dotenv_values

ENV_VARIABLE = "BIGTECH_OUTBOUND_ALLOW_HOSTS"
HTTP_ENVIRONMENTS = frozenset({"development", "test"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Public-looking addresses that still answer with instance credentials (Azure's wireserver) plus the
# well-known metadata endpoints (already non-global, listed so the reason says "metadata").
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "168.63.129.16", "100.100.100.200", "fd00:ec2::254",
))
NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundRefused(Exception):
    """A URL or a connection the guard refuses. ``reason`` is a stable code, ``message`` is for humans
    and never includes the URL's path or query (they may carry secrets)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


def _env_hosts(raw: str | None) -> frozenset[tuple[str, int | None]]:
    """``"127.0.0.1:8080, localhost, [::1]:9000"`` → ``{("127.0.0.1", 8080), ("localhost", None), …}``."""
    entries: set[tuple[str, int | None]] = set()
    for item in (raw or "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        if item.startswith("["):  # [v6]:port or [v6]
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        elif item.count(":") == 1:
            host, _, port = item.partition(":")
        else:
            host, port = item, ""
        entries.add((host, int(port) if port.isdigit() else None))
    return frozenset(entries)


@dataclass(frozen=True)
class OutboundPolicy:
    """What one caller may reach: the plugin's host allow-list plus the process-wide rules."""

    allowed_hosts: tuple[str, ...] = ()  # empty = any public host
    environment: str = "production"
    override_hosts: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    @classmethod
    def from_env(cls, allowed_hosts: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> OutboundPolicy:
        """Read ``BIGTECH_ENV`` and ``BIGTECH_OUTBOUND_ALLOW_HOSTS`` now (per call: nothing is cached),
        from the environment, else the working directory's ``.env`` (as ``bigtech.settings`` does)."""
        env = _environment() if environ is None else environ
        return cls(
            allowed_hosts=tuple(h.lower() for h in allowed_hosts),
            environment=(env.get("BIGTECH_ENV") or "production").strip().lower(),
            override_hosts=_env_hosts(env.get(ENV_VARIABLE)),
        )

    @property
    def allows_http(self) -> bool:
        return self.environment in HTTP_ENVIRONMENTS

    def overridden(self, host: str, port: int | None) -> bool:
        host = host.lower().strip("[]")
        return (host, None) in self.override_hosts or (port is not None and (host, port) in self.override_hosts)

    def host_listed(self, host: str) -> bool:
        host = host.lower()
        for pattern in self.allowed_hosts:
            if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
                return True
        return False


def _environment() -> dict[str, str]:
    wanted = ("BIGTECH_ENV", ENV_VARIABLE)
    values = {k: os.environ[k] for k in wanted if k in os.environ}
    dotenv_path = Path.cwd() / ".env"
    if len(values) < len(wanted) and dotenv_path.is_file():
        from_file = dotenv_values(dotenv_path)
        values.update({k: v for k in wanted if k not in values and (v := from_file.get(k)) is not None})
    return values


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be reached (``None`` = a public unicast address)."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in net for net in NAT64_NETWORKS):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    for attribute, label in (
        ("is_loopback", "loopback address"),
        ("is_link_local", "link-local address"),
        ("is_multicast", "multicast address"),
        ("is_unspecified", "unspecified address"),
        ("is_reserved", "reserved address"),
        ("is_private", "private address"),
    ):
        if getattr(ip, attribute):
            return label
    if not ip.is_global:  # shared (100.64/10), benchmarking, documentation ranges…
        return "non-public address"
    return None


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (``socket.getaddrinfo``: /etc/hosts and DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def checked_addresses(host: str, port: int, policy: OutboundPolicy) -> list[IPAddress]:
    """Resolve ``host`` and refuse unless **every** address is public (one bad A record is enough)."""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        raise OutboundRefused("unresolvable_host", f"{host} does not resolve.") from None
    if not addresses:
        raise OutboundRefused("unresolvable_host", f"{host} does not resolve.")
    for ip in addresses:
        problem = address_problem(ip)
        if problem:
            raise OutboundRefused("private_address", f"{host} resolves to a {problem}.")
    return addresses


def check_url(url: str, policy: OutboundPolicy, *, resolve_dns: bool = True) -> httpx.URL:
    """The URL-level rules; with ``resolve_dns`` also the address rules for a hostname (an unresolvable
    hostname passes here: the fetch-time check refuses it then). Returns the parsed URL."""
    if not isinstance(url, str) or not url.strip():
        raise OutboundRefused("invalid_url", "not a URL")
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        raise OutboundRefused("invalid_url", "not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise OutboundRefused("invalid_url", "an absolute http(s) URL is required")
    if parsed.userinfo:
        raise OutboundRefused("credentials_in_url", "credentials in the URL are not allowed")
    host, port = parsed.host.lower(), parsed.port or (443 if parsed.scheme == "https" else 80)
    if policy.overridden(host, port):
        return parsed  # the operator's explicit exception (a test's local receiver): no further rule
    if parsed.scheme == "http" and not policy.allows_http:
        raise OutboundRefused("https_required", "https is required outside development")
    if policy.allowed_hosts and not policy.host_listed(host):
        raise OutboundRefused("host_not_allowed", f"{host} is not one of this plugin's hosts "
                                                  f"({', '.join(policy.allowed_hosts)})")
    literal = _literal_ip(host)
    if literal is not None:
        problem = address_problem(literal)
        if problem:
            raise OutboundRefused("private_address", f"{host} is a {problem}")
    elif resolve_dns and not policy.host_listed(host):
        # A listed provider host is trusted at configuration time (no DNS call in the request path);
        # its addresses are still checked when a connection is made.
        try:
            checked_addresses(host, port, policy)
        except OutboundRefused as refused:
            if refused.reason != "unresolvable_host":
                raise
    return parsed


class _PinnedBackend(httpcore.SyncBackend):
    """Resolves, checks and connects in one step: the socket goes to the address that was checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        if self.policy.overridden(host, port):
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = checked_addresses(host, port, self.policy)
        except OutboundRefused as refused:
            if refused.reason == "unresolvable_host":  # a DNS failure is a network error (retryable)
                raise httpcore.ConnectError(refused.message) from None
            raise
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:  # try the next checked address
                last_error = error
        raise last_error or httpcore.ConnectError(f"could not connect to {host}")

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise OutboundRefused("invalid_url", "unix sockets are not allowed")


_SSL_CONTEXT: Any = None


def _ssl_context() -> Any:
    """One verifying TLS context per worker (building one loads the CA bundle: ~10 ms); it holds no
    per-execution secret, so sharing it across executions is safe."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


class GuardedTransport(httpx.BaseTransport):
    """Checks every request's URL, then connects only to checked addresses (TLS still verifies the
    hostname: only the TCP target is pinned). ``inner`` replaces the network in tests: the URL rules
    still apply, DNS and connection (what the mock stands for) do not."""

    def __init__(self, policy: OutboundPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner
        if inner is None:
            context = _ssl_context()
            self.inner = httpx.HTTPTransport(verify=context, retries=0)
            # httpx has no public knob for httpcore's network backend; the pool is rebuilt with ours.
            self.inner._pool = httpcore.ConnectionPool(
                ssl_context=context, max_connections=10, retries=0, network_backend=_PinnedBackend(policy),
            )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url), self.policy, resolve_dns=False)
        assert self.inner is not None
        return self.inner.handle_request(request)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


def guarded_client(policy: OutboundPolicy, *, timeout: Any = 10.0,
                   transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An ``httpx.Client`` for tenant-influenced URLs: guarded, no redirects, no environment proxies."""
    return httpx.Client(transport=GuardedTransport(policy, transport), timeout=timeout,
                        follow_redirects=False, trust_env=False)


__all__ = [
    "ENV_VARIABLE",
    "GuardedTransport",
    "OutboundPolicy",
    "OutboundRefused",
    "address_problem",
    "check_url",
    "checked_addresses",
    "guarded_client",
    "resolve",
]
