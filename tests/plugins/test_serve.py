"""``serve(plugin)``: the six routes, 200-with-status for execute, config checks, CORE-only access."""

import json
from pathlib import Path

from bigtech.plugins import Plugin, PluginResult, Status, core_calls, serve
from tests.support.fake_context import call as raw_call

from .conftest import load_plugin_module

BODY = {"tenant_id": "t1", "request_id": "r1", "input": {"query": "cpf", "cpf": "52998224725"}, "config": {}}


def sandbox_main():
    return load_plugin_module("fonte", "sandbox", "main").main


def call(main, method="GET", path="/", body=None, headers=None, **kwargs):
    """Call a plugin as CORE does: with a CORE token minted for exactly this request."""
    raw = b"" if body is None else json.dumps(body).encode("utf-8")
    sent = {**core_calls.headers(main.plugin.id, method, path, raw), **(headers or {})}
    return raw_call(main, method, path, body=raw, headers=sent, **kwargs)


def test_get_manifest():
    answer = call(sandbox_main(), "GET", "/manifest")
    assert answer.status == 200
    assert answer.json["id"] == "fonte-sandbox"
    assert "cpf" in answer.json["queries"]


def test_execute_answers_200_with_the_status_in_the_body():
    ok = call(sandbox_main(), "POST", "/execute", body=BODY)
    assert ok.status == 200 and ok.json["status"] == "ok"
    assert ok.json["billable"] is True and ok.json["provider_cost_cents"] == 5
    not_found = call(sandbox_main(), "POST", "/execute", body={**BODY, "input": {"query": "cpf", "cpf": "12345699906"}})
    assert not_found.status == 200 and not_found.json["status"] == "not_found"


def test_execute_logs_without_documents():
    answer = call(sandbox_main(), "POST", "/execute", body=BODY)
    logs = " ".join(answer.context.logs + answer.context.errors)
    assert "fonte-sandbox" in logs and "52998224725" not in logs


def test_execute_with_a_bad_body_is_a_422():
    answer = call(sandbox_main(), "POST", "/execute", body={"input": {}})
    assert answer.status == 422
    fields = {d["field"] for d in answer.json["error"]["details"]}
    assert {"tenant_id", "request_id"} <= fields


def test_execute_with_a_bad_config_is_a_failed_result_not_a_crash():
    answer = call(sandbox_main(), "POST", "/execute", body={**BODY, "config": {"price": "free"}})
    assert answer.status == 200
    assert answer.json["status"] == "failed" and answer.json["errors"][0]["code"] == "invalid_config"
    assert answer.json["billable"] is False


def test_enable_validates_config_and_disable_and_install_answer():
    main = sandbox_main()
    assert call(main, "POST", "/enable", body={"tenant_id": "t1", "config": {}}).json["enabled"] is True
    bad = call(main, "POST", "/enable", body={"tenant_id": "t1", "config": {"force_status": "maybe"}})
    assert bad.status == 422 and bad.json["error"]["details"][0]["field"] == "config.force_status"
    assert call(main, "POST", "/enable", body={"config": {}}).status == 422
    assert call(main, "POST", "/disable", body={"tenant_id": "t1"}).json["disabled"] is True
    installed = call(main, "POST", "/install").json
    assert installed["installed"] is True and installed["version"] == "1.0.0"


def test_events_answer_processed():
    main = sandbox_main()
    answer = call(main, "POST", "/events", body={"id": "e1", "type": "tenant.created", "tenant_id": "t1", "data": {}})
    assert answer.status == 200 and answer.json == {"processed": False, "reason": "not_subscribed"}
    assert call(main, "POST", "/events", body={"nope": 1}).status == 422


def test_callers_without_cores_token_are_refused_except_on_the_manifest():
    main = sandbox_main()
    assert raw_call(main, "GET", "/manifest", headers={"x-appwrite-user-id": "u1"}).status == 200
    for path in ("/install", "/enable", "/disable", "/execute", "/events"):
        for headers in ({}, {"x-appwrite-user-id": "u1"}, {"x-appwrite-key": "ephemeral_anything"}):
            answer = raw_call(main, "POST", path, body=BODY, headers=headers)
            assert answer.status == 401 and answer.json["error"]["code"] == "core_only", (path, headers)


def test_a_core_token_binds_plugin_route_and_body():
    main = sandbox_main()
    raw = json.dumps(BODY).encode()
    token = core_calls.mint("fonte-sandbox", "POST", "/execute", raw)
    sent = {core_calls.HEADER: token}
    assert raw_call(main, "POST", "/execute", body=raw, headers=sent).status == 200
    other_body = json.dumps({**BODY, "tenant_id": "t2"}).encode()
    assert raw_call(main, "POST", "/execute", body=other_body, headers=sent).status == 401
    assert raw_call(main, "POST", "/enable", body=raw, headers=sent).status == 401
    other_plugin = core_calls.mint("fonte-infosimples", "POST", "/execute", raw)
    assert raw_call(main, "POST", "/execute", body=raw, headers={core_calls.HEADER: other_plugin}).status == 401
    expired = core_calls.mint("fonte-sandbox", "POST", "/execute", raw, now=1_000_000)
    assert raw_call(main, "POST", "/execute", body=raw, headers={core_calls.HEADER: expired}).status == 401


class Crashing(Plugin):
    manifest_path = Path(__file__).resolve().parents[2] / "plugins" / "fonte" / "sandbox" / "plugin.json"

    def execute(self, ctx):
        raise RuntimeError(f"boom with {ctx.input['cpf']}")

    def on_event(self, envelope):
        return {"seen": envelope["id"]}


def test_a_crashing_plugin_answers_failed_and_logs_masked():
    answer = call(serve(Crashing()), "POST", "/execute", body=BODY)
    assert answer.status == 200
    assert answer.json["status"] == "failed" and answer.json["errors"][0]["code"] == "plugin_error"
    errors = " ".join(answer.context.errors)
    assert "RuntimeError" in errors and "52998224725" not in errors and "***.982.247-**" in errors


def test_subscribed_events_reach_on_event():
    plugin = Crashing()
    plugin.manifest = plugin.manifest.model_copy(update={"events": ["tenant.*"]})
    answer = call(serve(plugin), "POST", "/events", body={"id": "e9", "type": "tenant.created"})
    assert answer.json == {"processed": True, "seen": "e9"}


def test_result_model_is_what_execute_returns():
    answer = call(sandbox_main(), "POST", "/execute", body=BODY)
    assert PluginResult.model_validate(answer.json).status is Status.OK
