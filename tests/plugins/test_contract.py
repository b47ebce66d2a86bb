"""The wire models: money as strings, no data on errors, bare fonte ids accepted."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from bigtech.plugins import ExecuteRequest, PluginContext, PluginResult, SourceAttempt, Status


def test_result_serialises_money_as_integer_cents_and_round_trips():
    result = PluginResult(status=Status.OK, data={"a": 1}, billable=True, provider_cost=Decimal("0.20"),
                          sources=[SourceAttempt(plugin="fonte-x", status=Status.OK, billable=True,
                                                 provider_cost=Decimal("0.20"), elapsed_ms=12)])
    body = result.to_json()
    assert body["provider_cost_cents"] == 20 and "provider_cost" not in body
    assert body["sources"][0]["provider_cost_cents"] == 20
    assert PluginResult.model_validate(body) == result
    assert result.provider_cost == Decimal("0.20")


def test_a_legacy_decimal_provider_cost_is_read_as_cents():
    legacy = {"status": "ok", "data": {}, "billable": True, "provider_cost": "0.245",
              "sources": [{"plugin": "fonte-x", "status": "ok", "provider_cost": "0.2"}]}
    result = PluginResult.model_validate(legacy)
    assert result.provider_cost_cents == 25 and result.sources[0].provider_cost_cents == 20


@pytest.mark.parametrize("status", [Status.INPUT_ERROR, Status.RETRYABLE, Status.FAILED])
def test_error_results_carry_no_data(status):
    with pytest.raises(ValidationError):
        PluginResult(status=status, data={"x": 1})


def test_not_found_may_carry_a_report():
    assert PluginResult(status=Status.NOT_FOUND, data={"nada_consta": True}).data == {"nada_consta": True}


def test_execute_request_accepts_bare_fonte_ids_and_configs():
    body = ExecuteRequest.model_validate({"tenant_id": "t1", "request_id": "r1", "input": {},
                                          "fontes": ["fonte-a", {"id": "fonte-b", "config": {"token": "x"}}]})
    assert [f.id for f in body.fontes] == ["fonte-a", "fonte-b"]
    assert body.fontes[1].config == {"token": "x"}
    with pytest.raises(ValidationError):
        ExecuteRequest.model_validate({"tenant_id": "t1", "request_id": "r1", "fontes": ["consulta-x"]})
    with pytest.raises(ValidationError):
        ExecuteRequest.model_validate({"tenant_id": "t1", "request_id": "r1", "surprise": 1})


def test_context_repr_hides_input_and_config():
    ctx = PluginContext(tenant_id="t1", request_id="r1", input={"document": "52998224725"}, config={"token": "s3"})
    assert "52998224725" not in repr(ctx) and "s3" not in str(ctx)
