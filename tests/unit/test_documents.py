"""Brazilian identifiers: check digits (CPF, numeric and alphanumeric CNPJ, RENAVAM), plates, CEP,
masking and hashing. Vectors from shared/reference/identifiers-and-lgpd.md."""

import pytest

from bigtech import documents as d
from bigtech.documents import Document, InvalidDocument


@pytest.mark.parametrize("value", ["52998224725", "529.982.247-25", " 529.982.247-25 ", "12345600110"])
def test_valid_cpfs(value):
    assert d.is_valid_cpf(value)
    assert d.validate("cpf", value) == d.normalize_cpf(value)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("52998224724", "check digits"),
        ("5299822472", "11 digits"),
        ("529982247250", "11 digits"),
        ("11111111111", "repeat"),
        ("00000000000", "repeat"),
        ("", "empty"),
    ],
)
def test_invalid_cpfs(value, reason):
    assert not d.is_valid_cpf(value)
    with pytest.raises(InvalidDocument) as caught:
        d.validate("cpf", value)
    assert reason in caught.value.reason


@pytest.mark.parametrize("value", ["11222333000181", "11.222.333/0001-81", "12ABC34501DE35", "12.ABC.345/01DE-35",
                                   "12.abc.345/01de-35", "00000000E08G12"])
def test_valid_cnpjs_numeric_and_alphanumeric(value):
    assert d.is_valid_cnpj(value)
    assert d.validate("cnpj", value) == d.normalize_cnpj(value)


def test_alphanumeric_cnpj_is_normalised_uppercase_and_detected():
    assert d.normalize_cnpj("12.abc.345/01de-35") == "12ABC34501DE35"
    assert d.is_alphanumeric_cnpj("12ABC34501DE35")
    assert not d.is_alphanumeric_cnpj("11222333000181")
    assert d.format_cnpj("12ABC34501DE35") == "12.ABC.345/01DE-35"


@pytest.mark.parametrize("value", ["12ABC34501DE36", "11222333000182", "1122233300018", "12ABC34501DEA5",
                                   "11111111111111", "12ABC34501DE3X"])
def test_invalid_cnpjs(value):
    assert not d.is_valid_cnpj(value)
    with pytest.raises(InvalidDocument):
        d.validate("cnpj", value)


def test_cnpj_check_digits_match_the_numeric_rule_for_digits():
    assert d.cnpj_check_digits("112223330001") == "81"
    assert d.cnpj_check_digits("12ABC34501DE") == "35"


@pytest.mark.parametrize("value, fmt", [("ABC1234", "LLLNNNN"), ("abc-1234", "LLLNNNN"), ("ABC1D23", "LLLNLNN"),
                                        ("abc 1d23", "LLLNLNN")])
def test_plates_old_and_mercosul(value, fmt):
    assert d.plate_format(value) == fmt
    assert d.is_valid_plate(value)


@pytest.mark.parametrize("value", ["AB12345", "ABCD123", "ABC12D3", "1BC1234", "ABC123", ""])
def test_invalid_plates(value):
    assert not d.is_valid_plate(value)


def test_old_plate_converts_to_mercosul():
    assert d.to_mercosul("ABC1234") == "ABC1C34"
    assert d.to_mercosul("ABC-1034") == "ABC1A34"
    assert d.to_mercosul("ABC1D23") == "ABC1D23"


def test_renavam_check_digit_and_legacy_padding():
    assert d.is_valid_renavam("01234567897")
    assert not d.is_valid_renavam("01234567898")
    legacy = "12345678" + d.renavam_check_digit("0012345678")  # 9 digits, as old documents print it
    assert d.normalize_renavam(legacy) == "00" + legacy
    assert d.is_valid_renavam(legacy)
    assert not d.is_valid_renavam("1234567")


def test_cep_has_no_check_digit():
    assert d.is_valid_cep("01310-200")
    assert d.format_cep("01310200") == "01310-200"
    assert not d.is_valid_cep("0131020")


def test_document_parse_tells_cpf_from_cnpj():
    assert Document.parse("529.982.247-25") == Document("cpf", "52998224725")
    assert Document.parse("12.abc.345/01de-35") == Document("cnpj", "12ABC34501DE35")
    with pytest.raises(InvalidDocument) as caught:
        Document.parse("529.982.247-24")
    assert caught.value.kind == "cpf"
    with pytest.raises(InvalidDocument) as caught:
        Document.parse("12ABC34501DE36")
    assert caught.value.kind == "cnpj"
    with pytest.raises(InvalidDocument):
        Document.parse("123")


def test_document_str_and_repr_are_masked():
    doc = Document.parse("52998224725")
    assert "52998224725" not in str(doc) and "52998224725" not in repr(doc)
    assert str(doc) == "***.982.247-**"
    cnpj = Document.parse("12ABC34501DE35")
    assert str(cnpj) == "**.ABC.345/01DE-**"
    assert cnpj.formatted == "12.ABC.345/01DE-35"


@pytest.mark.parametrize(
    "kind, value, masked",
    [
        ("cpf", "529.982.247-25", "***.982.247-**"),
        ("cnpj", "11222333000181", "**.222.333/0001-**"),
        ("placa", "ABC1D23", "ABC****"),
        ("renavam", "01234567897", "*******7897"),
        ("cep", "01310200", "01310-***"),
        ("cpf", "123", "***"),
        ("other", "whatever", "***"),
    ],
)
def test_mask(kind, value, masked):
    assert d.mask(kind, value) == masked


def test_hash_document_is_keyed_and_format_independent():
    a = d.hash_document("cpf", "529.982.247-25", "k1")
    assert a == d.hash_document("cpf", "52998224725", "k1")
    assert a != d.hash_document("cpf", "52998224725", "k2")
    assert a != d.hash_document("cnpj", "52998224725", "k1")
    assert len(a) == 64 and "52998224725" not in a
    with pytest.raises(ValueError):
        d.hash_document("cpf", "52998224725", "")


def test_md5_param_matches_infosimples_style():
    import hashlib

    assert d.md5_param("52998224725") == hashlib.md5(b"52998224725").hexdigest()
