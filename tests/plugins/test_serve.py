"""``serve(plugin)``: the six routes, 200-with-status for execute, config checks, CORE-only access."""

from pathlib import Path

from bigtech.plugins import Plugin, PluginResult, Status, serve
from tests.support.fake_context import call

from .conftest import load_plugin_module

BODY = {"tenant_id": "t1", "request_id": "r1", "input": {"query": "cpf", "cpf": "52998224725"}, "config": {}}


def sandbox_main():
    return load_plugin_module("fonte", "sandbox", "main").main


def test_get_manifest():
    answer = call(sandbox_main(), "GET", "/manifest")
    assert answer.status == 200
    assert answer.json["id"] == "fonte-sandbox"
    assert "cpf" in answer.json["queries"]


def test_execute_answers_200_with_the_status_in_the_body():
    ok = call(sandbox_main(), "POST", "/execute", body=BODY)
    assert ok.status == 200 and ok.json["status"] == "ok"
    assert ok.json["billable"] is True and ok.json["provider_cost"] == "0.05"
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


def test_user_callers_are_refused():
    answer = call(sandbox_main(), "GET", "/manifest", headers={"x-appwrite-user-id": "u1"})
    assert answer.status == 403 and answer.json["error"]["code"] == "core_only"


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
