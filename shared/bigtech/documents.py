"""Brazilian identifiers: normalise, validate (check digits), format, mask and hash.

One module so the consultas function, every consulta/fonte plugin and the audit code agree on what a
valid CPF, CNPJ (numeric and the alphanumeric CNPJ of July 2026), licence plate (old ``LLLNNNN`` and
Mercosul ``LLLNLNN``), RENAVAM or CEP is. Sources: ``shared/reference/identifiers-and-lgpd.md``.

Rules worth knowing:

- normalise **before** validating: strip punctuation, uppercase (alphanumeric CNPJs are uppercase);
- never turn a document into an ``int`` (leading zeros, letters);
- a repeated-digit CPF/CNPJ passes the arithmetic but is invalid;
- a CEP has no check digit, so a valid CEP is only a well-formed one;
- logs get ``mask`` (or the HMAC from ``hash_document``), never the document itself (LGPD art. 46).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

DocumentKind = Literal["cpf", "cnpj", "placa", "renavam", "cep"]

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_NON_DIGIT = re.compile(r"\D")
_CNPJ = re.compile(r"^[A-Z0-9]{12}[0-9]{2}$")
_PLATE_OLD = re.compile(r"^[A-Z]{3}[0-9]{4}$")
_PLATE_MERCOSUL = re.compile(r"^[A-Z]{3}[0-9][A-Z][0-9]{2}$")


class InvalidDocument(ValueError):
    """A document that fails its format or check digits; ``kind`` says which document, ``reason`` why."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"Invalid {kind}: {reason}")


def mask_cpf(digits: str) -> str:
    """``12345678909`` → ``***.456.789-**``: keeps the middle six digits, enough to tell records apart."""
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_cnpj(chars: str) -> str:
    """``11222333000181`` → ``**.222.333/0001-**`` (also ``12ABC34501DE35`` → ``**.ABC.345/01DE-**``)."""
    return f"**.{chars[2:5]}.{chars[5:8]}/{chars[8:12]}-**"


# -- CPF -----------------------------------------------------------------------------------------


def normalize_cpf(value: str) -> str:
    """Digits only (``123.456.789-09`` → ``12345678909``); no padding, so a short CPF stays invalid."""
    return _NON_DIGIT.sub("", value or "")


def cpf_check_digits(base9: str) -> str:
    """The two check digits of a 9-digit CPF base (weights 10..2, then 11..2)."""

    def digit(body: str) -> int:
        total = sum(int(c) * w for c, w in zip(body, range(len(body) + 1, 1, -1), strict=True))
        remainder = total % 11
        return 0 if remainder < 2 else 11 - remainder

    first = digit(base9)
    return f"{first}{digit(base9 + str(first))}"


def cpf_problem(value: str) -> str | None:
    """Why ``value`` is not a valid CPF, or ``None`` when it is."""
    cpf = normalize_cpf(value)
    if len(cpf) != 11:
        return "a CPF has 11 digits"
    if len(set(cpf)) == 1:
        return "a CPF cannot repeat one digit"
    if cpf_check_digits(cpf[:9]) != cpf[9:]:
        return "check digits do not match"
    return None


def is_valid_cpf(value: str) -> bool:
    return cpf_problem(value) is None


def format_cpf(value: str) -> str:
    cpf = normalize_cpf(value)
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


# -- CNPJ (numeric and alphanumeric) ---------------------------------------------------------------


def normalize_cnpj(value: str) -> str:
    """Letters and digits only, uppercased (``12.abc.345/01de-35`` → ``12ABC34501DE35``)."""
    return _NON_ALNUM.sub("", value or "").upper()


def _cnpj_digit(body: str) -> int:
    # Character value = ord(c) - 48 ("0".."9" → 0..9, "A" → 17 … "Z" → 42): the numeric rule unchanged.
    weights = list(range(len(body) - 7, 1, -1)) + list(range(9, 1, -1))
    total = sum((ord(c) - 48) * w for c, w in zip(body, weights, strict=True))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def cnpj_check_digits(base12: str) -> str:
    """The two check digits of a 12-character CNPJ base (numeric or alphanumeric)."""
    base = normalize_cnpj(base12)
    first = _cnpj_digit(base)
    return f"{first}{_cnpj_digit(base + str(first))}"


def cnpj_problem(value: str) -> str | None:
    cnpj = normalize_cnpj(value)
    if len(cnpj) != 14:
        return "a CNPJ has 14 characters"
    if not _CNPJ.match(cnpj):
        return "a CNPJ is 12 letters or digits followed by 2 digits"
    if len(set(cnpj)) == 1:
        return "a CNPJ cannot repeat one character"
    if cnpj_check_digits(cnpj[:12]) != cnpj[12:]:
        return "check digits do not match"
    return None


def is_valid_cnpj(value: str) -> bool:
    return cnpj_problem(value) is None


def is_alphanumeric_cnpj(value: str) -> bool:
    cnpj = normalize_cnpj(value)
    return bool(_CNPJ.match(cnpj)) and not cnpj.isdigit()


def format_cnpj(value: str) -> str:
    cnpj = normalize_cnpj(value)
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


# -- licence plate -------------------------------------------------------------------------------


def normalize_plate(value: str) -> str:
    """Uppercase, no ``-`` or spaces (``abc-1234`` → ``ABC1234``)."""
    return _NON_ALNUM.sub("", value or "").upper()


def plate_format(value: str) -> Literal["LLLNNNN", "LLLNLNN"] | None:
    plate = normalize_plate(value)
    if _PLATE_OLD.match(plate):
        return "LLLNNNN"
    if _PLATE_MERCOSUL.match(plate):
        return "LLLNLNN"
    return None


def plate_problem(value: str) -> str | None:
    if plate_format(value) is None:
        return "a plate is LLLNNNN (old) or LLLNLNN (Mercosul)"
    return None


def is_valid_plate(value: str) -> bool:
    return plate_problem(value) is None


def to_mercosul(value: str) -> str:
    """Old → Mercosul: the 5th character (a digit) becomes a letter, ``0→A … 9→J``; Mercosul stays."""
    plate = normalize_plate(value)
    if plate_format(plate) == "LLLNNNN":
        return plate[:4] + chr(ord("A") + int(plate[4])) + plate[5:]
    return plate


# -- RENAVAM -------------------------------------------------------------------------------------


def normalize_renavam(value: str) -> str:
    """Digits only; legacy 9-digit numbers are left-padded with zeros to 11."""
    digits = _NON_DIGIT.sub("", value or "")
    return digits.zfill(11) if len(digits) == 9 else digits


def renavam_check_digit(base10: str) -> str:
    """Weights 3,2,9,8,7,6,5,4,3,2 over the first 10 digits; ``(sum * 10) % 11``, 10 → 0."""
    total = sum(int(c) * w for c, w in zip(base10, (3, 2, 9, 8, 7, 6, 5, 4, 3, 2), strict=True))
    digit = (total * 10) % 11
    return "0" if digit == 10 else str(digit)


def renavam_problem(value: str) -> str | None:
    renavam = normalize_renavam(value)
    if len(renavam) != 11:
        return "a RENAVAM has 11 digits (or 9 legacy digits)"
    if renavam_check_digit(renavam[:10]) != renavam[10]:
        return "check digit does not match"
    return None


def is_valid_renavam(value: str) -> bool:
    return renavam_problem(value) is None


# -- CEP -----------------------------------------------------------------------------------------


def normalize_cep(value: str) -> str:
    return _NON_DIGIT.sub("", value or "")


def cep_problem(value: str) -> str | None:
    return None if len(normalize_cep(value)) == 8 else "a CEP has 8 digits"


def is_valid_cep(value: str) -> bool:
    return cep_problem(value) is None


def format_cep(value: str) -> str:
    cep = normalize_cep(value)
    return f"{cep[:5]}-{cep[5:]}"


# -- one entry point per kind ----------------------------------------------------------------------

_NORMALIZERS = {
    "cpf": normalize_cpf,
    "cnpj": normalize_cnpj,
    "placa": normalize_plate,
    "renavam": normalize_renavam,
    "cep": normalize_cep,
}
_PROBLEMS = {
    "cpf": cpf_problem,
    "cnpj": cnpj_problem,
    "placa": plate_problem,
    "renavam": renavam_problem,
    "cep": cep_problem,
}


def normalize(kind: DocumentKind, value: str) -> str:
    return _NORMALIZERS[kind](value)


def validate(kind: DocumentKind, value: str) -> str:
    """The normalised document, or ``InvalidDocument`` saying why not."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidDocument(kind, "empty")
    problem = _PROBLEMS[kind](value)
    if problem:
        raise InvalidDocument(kind, problem)
    return _NORMALIZERS[kind](value)


def document_kind(value: str) -> Literal["cpf", "cnpj"] | None:
    """``cpf`` or ``cnpj`` for a *valid* CPF/CNPJ in any common format; ``None`` otherwise."""
    if is_valid_cpf(value) and len(_NON_ALNUM.sub("", value or "")) == 11:
        return "cpf"
    if is_valid_cnpj(value):
        return "cnpj"
    return None


@dataclass(frozen=True)
class Document:
    """A validated CPF or CNPJ: ``number`` is normalised; ``str()`` is masked so it is log-safe."""

    kind: Literal["cpf", "cnpj"]
    number: str

    @classmethod
    def parse(cls, value: str) -> Document:
        """Accept a CPF or CNPJ (numeric or alphanumeric, masked or not); ``InvalidDocument`` otherwise."""
        if not isinstance(value, str) or not value.strip():
            raise InvalidDocument("document", "empty")
        kind = document_kind(value)
        if kind is None:
            chars = _NON_ALNUM.sub("", value)
            if len(chars) == 11 and chars.isdigit():
                raise InvalidDocument("cpf", cpf_problem(value) or "invalid")
            if len(chars) == 14:
                raise InvalidDocument("cnpj", cnpj_problem(value) or "invalid")
            raise InvalidDocument("document", "expected a CPF (11 digits) or a CNPJ (14 characters)")
        return cls(kind, normalize(kind, value))

    @property
    def masked(self) -> str:
        return mask(self.kind, self.number)

    @property
    def formatted(self) -> str:
        return format_cpf(self.number) if self.kind == "cpf" else format_cnpj(self.number)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:  # keep the number out of tracebacks and debug logs too
        return f"Document(kind={self.kind!r}, number={self.masked!r})"


# -- masking and hashing ---------------------------------------------------------------------------


def mask(kind: str, value: str) -> str:
    """A log-safe form: CPF ``***.456.789-**``, CNPJ ``**.222.333/0001-**``, plate ``ABC****``,
    RENAVAM ``*******1234``, CEP ``01310-***``; anything else ``***``."""
    if kind == "cpf":
        cpf = normalize_cpf(value)
        return mask_cpf(cpf) if len(cpf) == 11 else "***"
    if kind == "cnpj":
        cnpj = normalize_cnpj(value)
        return mask_cnpj(cnpj) if len(cnpj) == 14 else "***"
    if kind == "placa":
        plate = normalize_plate(value)
        return plate[:3] + "*" * max(len(plate) - 3, 0) if plate else "***"
    if kind == "renavam":
        renavam = normalize_renavam(value)
        return "*" * max(len(renavam) - 4, 0) + renavam[-4:] if renavam else "***"
    if kind == "cep":
        cep = normalize_cep(value)
        return f"{cep[:5]}-***" if len(cep) == 8 else "***"
    return "***"


def hash_document(kind: str, value: str, key: str | bytes) -> str:
    """HMAC-SHA256 of ``kind:normalised`` under the data key: a search key for audit and history that
    is useless without the key (a plain hash of an 11-digit CPF is brute-forced in minutes)."""
    if not key:
        raise ValueError("hash_document needs the data key (BIGTECH_DATA_KEY).")
    secret = key.encode("utf-8") if isinstance(key, str) else key
    normalised = _NORMALIZERS[kind](value) if kind in _NORMALIZERS else value
    return hmac.new(secret, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def md5_param(value: str) -> str:
    """Infosimples-style ``<name>_md5`` value (what its ``header.parameters`` echo instead of the
    document). Only for matching a provider's echo; use ``hash_document`` for our own search keys."""
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


__all__ = [
    "Document",
    "DocumentKind",
    "InvalidDocument",
    "cnpj_check_digits",
    "cpf_check_digits",
    "document_kind",
    "format_cep",
    "format_cnpj",
    "format_cpf",
    "hash_document",
    "is_alphanumeric_cnpj",
    "is_valid_cep",
    "is_valid_cnpj",
    "is_valid_cpf",
    "is_valid_plate",
    "is_valid_renavam",
    "mask",
    "md5_param",
    "normalize",
    "normalize_cep",
    "normalize_cnpj",
    "normalize_cpf",
    "normalize_plate",
    "normalize_renavam",
    "plate_format",
    "renavam_check_digit",
    "to_mercosul",
    "validate",
]
