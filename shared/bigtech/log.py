"""Logging that never writes a whole CPF or CNPJ (LGPD art. 46: mask personal identifiers in logs).

Appwrite keeps function logs readable by every project developer, so a document number must not
reach ``context.log``/``context.error`` in clear. ``mask_document`` masks one known identifier;
``mask_text`` finds identifiers inside free text (log lines, tracebacks); ``FunctionLogger`` wraps a
context so every line goes through ``mask_text``. Over-masking (an 11-digit phone number) is the
accepted price of never under-masking.
"""

from __future__ import annotations

import json
import re
import traceback
from typing import Any, Protocol

from .documents import cnpj_check_digits, mask_cnpj, mask_cpf

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_CNPJ_SHAPE = re.compile(r"^[A-Z0-9]{12}[0-9]{2}$")

# A CPF (11 digits) or CNPJ (12 alphanumerics + 2 digits), with or without the usual punctuation,
# not glued to other letters or digits (so ids and long numbers are left alone).
_CANDIDATES = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"(?P<cnpj>[0-9A-Za-z]{2}\.?[0-9A-Za-z]{3}\.?[0-9A-Za-z]{3}/?[0-9A-Za-z]{4}-?[0-9]{2})"
    r"|(?P<cpf>[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2})"
    r")(?![0-9A-Za-z])"
)


def mask_document(value: str) -> str:
    """Mask a CPF or CNPJ given in any common format; anything else is masked entirely."""
    chars = _NON_ALNUM.sub("", value or "").upper()
    if len(chars) == 11 and chars.isdigit():
        return mask_cpf(chars)
    if _CNPJ_SHAPE.match(chars):
        return mask_cnpj(chars)
    return "***"


def _replace(match: re.Match[str]) -> str:
    text = match.group(0)
    chars = _NON_ALNUM.sub("", text).upper()
    if match.group("cpf") is not None:
        return mask_cpf(chars)
    # A 14-character token with letters is only a CNPJ if its check digits say so; otherwise it is
    # far more likely an id or a hash, which we leave readable.
    if chars.isdigit() or cnpj_check_digits(chars[:12]) == chars[12:]:
        return mask_cnpj(chars)
    return text


def mask_text(text: str) -> str:
    """Mask every CPF/CNPJ-looking token inside ``text``."""
    return _CANDIDATES.sub(_replace, text)


def _render(message: Any) -> str:
    if isinstance(message, str):
        return message
    if isinstance(message, dict | list | tuple):
        return json.dumps(message, default=str, ensure_ascii=False)
    return str(message)


class _Loggable(Protocol):
    def log(self, *messages: Any) -> None: ...
    def error(self, *messages: Any) -> None: ...


class FunctionLogger:
    """``context.log``/``context.error`` with masking; build one per execution: ``FunctionLogger(context)``."""

    def __init__(self, context: _Loggable) -> None:
        self._context = context

    def log(self, *messages: Any) -> None:
        self._context.log(*(mask_text(_render(m)) for m in messages))

    def error(self, *messages: Any) -> None:
        self._context.error(*(mask_text(_render(m)) for m in messages))

    def exception(self, message: str, exc: BaseException) -> None:
        """Log ``message`` and the traceback of ``exc`` to the error stream, masked."""
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.error(f"{message}\n{trace}")


__all__ = ["FunctionLogger", "mask_cnpj", "mask_cpf", "mask_document", "mask_text"]
