"""A syntactically valid PIX "copia e cola" (EMV BR Code) for fake charges, with its CRC16-CCITT."""

from __future__ import annotations


def _field(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16(payload: str) -> str:
    crc = 0xFFFF
    for byte in payload.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def pix_payload(key: str, amount_cents: int, txid: str, merchant: str = "BIGTECH SANDBOX",
                city: str = "SAO PAULO") -> str:
    account = _field("00", "br.gov.bcb.pix") + _field("01", key)
    body = (
        _field("00", "01")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + _field("54", f"{amount_cents / 100:.2f}")
        + _field("58", "BR")
        + _field("59", merchant[:25])
        + _field("60", city[:15])
        + _field("62", _field("05", "".join(ch for ch in txid if ch.isalnum())[:25] or "***"))
        + "6304"
    )
    return body + crc16(body)
