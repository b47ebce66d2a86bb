"""The PIX QR code image: a real QR of the BR Code payload (what a banking app scans), as base64 PNG."""

from __future__ import annotations

import base64
import io


def qr_png_base64(payload: str, scale: int = 4) -> str:
    """PNG of ``payload`` with error correction M (what PIX QR codes commonly use), base64-encoded."""
    import segno  # here, not with the module: only a PIX charge draws a QR (cold start)

    buffer = io.BytesIO()
    segno.make_qr(payload, error="m", boost_error=False).save(buffer, kind="png", scale=scale, border=4)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


__all__ = ["qr_png_base64"]
