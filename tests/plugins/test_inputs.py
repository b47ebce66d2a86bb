"""The consultas input validation library: every category, check digits, value-free messages."""

import pytest

from bigtech.errors import Unprocessable
from bigtech.plugins import validate_input


@pytest.mark.parametrize("category", ["cadastral", "credito"])
@pytest.mark.parametrize("document, kind, number", [
    ("529.982.247-25", "cpf", "52998224725"),
    ("11.222.333/0001-81", "cnpj", "11222333000181"),
    ("12.abc.345/01de-35", "cnpj", "12ABC34501DE35"),
])
def test_documents_for_person_categories(category, document, kind, number):
    parsed = validate_input(category, {"document": document})
    assert (parsed.document_type, parsed.document) == (kind, number)
    assert number not in repr(parsed)


def test_vehicle_inputs():
    parsed = validate_input("veicular", {"plate": "abc-1234", "renavam": "01234567897"})
    assert parsed.plate == "ABC1234" and parsed.renavam == "01234567897"
    assert validate_input("veicular", {"plate": "ABC1D23"}).plate == "ABC1D23"


@pytest.mark.parametrize("category, raw, field", [
    ("cadastral", {"document": "529.982.247-24"}, "document"),
    ("cadastral", {"document": "12ABC34501DE36"}, "document"),
    ("cadastral", {}, "document"),
    ("cadastral", {"plate": "ABC1234"}, "plate"),
    ("veicular", {"plate": "AB-12345"}, "plate"),
    ("veicular", {"renavam": "01234567898"}, "renavam"),
    ("veicular", {"document": "52998224725"}, "document"),
    ("veicular", {}, "plate"),
    ("cadastral", {"document": "52998224725", "birthdate": "31/02/1990"}, "birthdate"),
    ("cadastral", {"document": 52998224725}, "document"),
])
def test_invalid_inputs_are_422_with_field_details(category, raw, field):
    with pytest.raises(Unprocessable) as caught:
        validate_input(category, raw)
    assert caught.value.code == "invalid_input"
    assert field in {d["field"] for d in caught.value.details}
    for detail in caught.value.details:
        assert "52998224725" not in detail["message"] and "12ABC34501DE36" not in detail["message"]


def test_accepted_kinds_narrow_the_category():
    with pytest.raises(Unprocessable, match="document"):
        validate_input("cadastral", {"document": "11222333000181"}, accepted=["cpf"])


def test_birthdate_formats():
    assert validate_input("cadastral", {"document": "52998224725", "birthdate": "31/01/1990"}).birthdate == "1990-01-31"
    assert validate_input("cadastral", {"document": "52998224725", "birthdate": "1990-01-31"}).birthdate == "1990-01-31"


def test_unknown_category():
    with pytest.raises(Unprocessable) as caught:
        validate_input("astrologia", {"document": "52998224725"})
    assert caught.value.code == "unknown_category"
