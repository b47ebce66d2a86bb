"""A fonte's source receipts (Infosimples ``site_receipts``: proof of what the source showed) into Storage.

The fonte answers URLs (``SourceAttempt.meta["site_receipts"]``); CORE's consultas function fetches
them once, right after the plugin answered and before the consulta's transaction, so the row commits
with its links (``consultas.source_receipts``). Each URL is hostile input:

- fetched only through ``bigtech.outbound.guarded_client`` (https, public addresses, no redirects);
- at most ``MAX_RECEIPTS`` per consulta, ``FETCH_TIMEOUT`` seconds each, ``MAX_BYTES`` each (read as a
  stream and abandoned past the cap, whatever ``content-length`` claims);
- only ``ACCEPTED_TYPES`` (the body's first bytes must match a PDF/PNG/JPEG when it says so);
- any failure is logged and skipped: a receipt never fails, delays past its cap or charges a consulta.

The stored file is readable by the member who ran the consulta and the tenant's managers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appwrite.services.storage import Storage

from .. import lazy
from .files import Audience, store_file

if TYPE_CHECKING:
    import httpx

    from .. import outbound
    from ..outbound import OutboundPolicy
else:
    # Only a fonte that returns receipt URLs needs the HTTP client (httpx and its CLI extras are the
    # largest import of a consulta): loaded on the first fetch, not with every consulta function.
    httpx = lazy.module("httpx")
    outbound = lazy.module("bigtech.outbound")

MAX_RECEIPTS = 3
MAX_BYTES = 5 * 1024 * 1024  # one SDK chunk: one Appwrite call per stored receipt
FETCH_TIMEOUT = 8.0
ACCEPTED_TYPES = {"application/pdf": "pdf", "text/html": "html", "image/png": "png", "image/jpeg": "jpg"}
MAGIC = {"pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",)}


class ReceiptRefused(Exception):
    """Why one receipt was not stored (a stable code for the log)."""


@dataclass(frozen=True)
class Fetched:
    data: bytes
    extension: str


def receipt_urls(sources: Iterable[Any]) -> list[tuple[str, str]]:
    """(plugin, url) for every ``site_receipts`` URL the fontes returned, first ``MAX_RECEIPTS``, no repeats."""
    found: list[tuple[str, str]] = []
    for attempt in sources:
        meta = getattr(attempt, "meta", None) or {}
        for url in meta.get("site_receipts") or []:
            if isinstance(url, str) and url not in [u for _, u in found] and len(url) <= 2048:
                found.append((str(getattr(attempt, "plugin", "")), url))
    return found[:MAX_RECEIPTS]


def fetch(url: str, policy: OutboundPolicy | None = None, transport: httpx.BaseTransport | None = None) -> Fetched:
    policy = policy or outbound.OutboundPolicy.from_env()
    try:
        with outbound.guarded_client(policy, timeout=FETCH_TIMEOUT, transport=transport) as client, \
                client.stream("GET", url, headers={"accept": ", ".join(ACCEPTED_TYPES)}) as response:
            if response.status_code != 200:
                raise ReceiptRefused(f"http_{response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            extension = ACCEPTED_TYPES.get(kind)
            if extension is None:
                raise ReceiptRefused("content_type_refused")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise ReceiptRefused("too_large")
            body = bytearray()
            for piece in response.iter_bytes():
                body.extend(piece)
                if len(body) > MAX_BYTES:
                    raise ReceiptRefused("too_large")
    except outbound.OutboundRefused as error:
        raise ReceiptRefused(f"outbound_refused:{error.reason}") from None
    except httpx.HTTPError as error:
        raise ReceiptRefused(f"fetch_failed:{type(error).__name__}") from None
    if not body:
        raise ReceiptRefused("empty")
    if extension in MAGIC and not bytes(body).startswith(MAGIC[extension]):
        raise ReceiptRefused("content_mismatch")
    return Fetched(bytes(body), extension)


def store_source_receipts(storage: Storage, audience: Audience, consulta_id: str, sources: Iterable[Any],
                          log: Callable[[str], Any], policy: OutboundPolicy | None = None,
                          transport: httpx.BaseTransport | None = None) -> list[dict[str, Any]]:
    """Fetch and store each receipt; the links for ``consultas.source_receipts`` (never raises)."""
    links: list[dict[str, Any]] = []
    for index, (plugin, url) in enumerate(receipt_urls(sources), start=1):
        try:
            fetched = fetch(url, policy, transport)
            stored = store_file(storage, audience, f"comprovante-{consulta_id}-{index}.{fetched.extension}",
                                fetched.data)
        except ReceiptRefused as refused:
            log(f"consulta {consulta_id}: source receipt {index} from {plugin} not stored ({refused})")
            continue
        except Exception as error:  # Storage down, bucket missing…: the consulta goes on without it
            log(f"consulta {consulta_id}: source receipt {index} from {plugin} not stored "
                f"({type(error).__name__}: {str(error)[:200]})")
            continue
        links.append({**stored.link(), "plugin": plugin})
    return links
