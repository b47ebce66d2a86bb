"""CPF/CNPJ masking in logs (LGPD): one document, free text, and the context wrapper."""

import pytest

from bigtech.log import FunctionLogger, mask_document, mask_text
from tests.support.fake_context import make_context


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("12345678909", "***.456.789-**"),
        ("123.456.789-09", "***.456.789-**"),
        ("11222333000181", "**.222.333/0001-**"),
        ("11.222.333/0001-81", "**.222.333/0001-**"),
        ("12ABC34501DE35", "**.ABC.345/01DE-**"),
        ("12.abc.345/01de-35", "**.ABC.345/01DE-**"),
        ("not a document", "***"),
        ("", "***"),
    ],
)
def test_mask_document(value, masked):
    assert mask_document(value) == masked


def test_mask_text_finds_documents_in_any_format():
    text = (
        "cpf=12345678909 formatted 123.456.789-09; cnpj 11.222.333/0001-81, "
        'alnum {"doc": "12ABC34501DE35"} and 00000000E08G12'
    )
    masked = mask_text(text)
    for clear in ("12345678909", "123.456.789-09", "11.222.333/0001-81", "12ABC34501DE35", "00000000E08G12"):
        assert clear not in masked
    assert masked.count("***.456.789-**") == 2
    assert "**.222.333/0001-**" in masked
    assert "**.ABC.345/01DE-**" in masked


def test_mask_text_leaves_ids_and_other_numbers_alone():
    text = "row 65f1a2b3c4d5e6 amount 1500 id 12ABC34501DE36 long 123456789012345 2026-01-01T10:00:00Z"
    assert mask_text(text) == text


def test_function_logger_masks_every_message_and_renders_structures():
    context = make_context()
    log = FunctionLogger(context)
    log.log("consulta for", "123.456.789-09", {"document": "11222333000181"})
    log.error("failed", 12345678909)
    assert "123.456.789-09" not in context.logs[0] and "11222333000181" not in context.logs[0]
    assert "***.456.789-**" in context.logs[0] and "**.222.333/0001-**" in context.logs[0]
    assert context.errors == ["failed ***.456.789-**"]


def test_function_logger_exception_logs_masked_traceback():
    context = make_context()
    try:
        raise ValueError("bad document 12345678909")
    except ValueError as error:
        FunctionLogger(context).exception("lookup failed", error)
    assert "Traceback" in context.errors[0]
    assert "12345678909" not in context.errors[0]
