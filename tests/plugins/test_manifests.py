"""Every plugin.json passes the manifest JSON Schema, and the schema rejects what it should."""

import copy
import json

import pytest

from bigtech.plugins import ManifestError, check_config, load_manifest, parse_manifest
from bigtech.plugins.categories import CATEGORIES

from .conftest import PLUGINS_DIR, REPO, load_plugin_module, plugin_folders

EXPECTED = {"fonte-sandbox", "fonte-infosimples", "fonte-brasilapi", "consulta-cadastral", "consulta-veicular",
            "consulta-credito"}


def test_every_expected_plugin_has_a_manifest():
    ids = {load_manifest(folder / "plugin.json").id for folder in plugin_folders()}
    assert ids >= EXPECTED


@pytest.mark.parametrize("folder", plugin_folders(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_manifest_is_valid_and_matches_its_folder(folder):
    manifest = load_manifest(folder / "plugin.json")
    assert manifest.id == f"{folder.parent.name}-{folder.name}"
    assert manifest.type == folder.parent.name
    if manifest.type == "consulta":
        assert manifest.category in CATEGORIES
        assert manifest.inputs
        for fonte_id in manifest.default_fontes + manifest.dependencies.any_of:
            assert (PLUGINS_DIR / "fonte" / fonte_id.removeprefix("fonte-") / "plugin.json").exists()
    # the config defaults themselves satisfy the config schema (a fresh install is valid, secrets aside)
    defaults = manifest.with_defaults({})
    problems = [p for p in check_config(manifest, defaults) if p["message"] != "required"]
    assert problems == []


@pytest.mark.parametrize("folder", plugin_folders(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_plugin_folder_is_a_deployable_function(folder):
    """A thin src/main.py serving the plugin, a requirements.txt, and an appwrite.json entry."""
    manifest = load_manifest(folder / "plugin.json")
    assert (folder / "requirements.txt").exists()
    main = load_plugin_module(folder.parent.name, folder.name, "main").main
    assert main.plugin.id == manifest.id
    assert {(m, p) for m, p, _ in main.router.actions()} >= {
        ("GET", "/manifest"), ("POST", "/install"), ("POST", "/enable"), ("POST", "/disable"),
        ("POST", "/execute"), ("POST", "/events")}
    project = json.loads((REPO / "appwrite.json").read_text())
    entry = next(f for f in project["functions"] if f["$id"] == manifest.id)
    assert entry["path"] == f"plugins/{folder.parent.name}/{folder.name}"
    assert entry["entrypoint"] == "src/main.py"
    assert entry["runtime"] == "python-3.12"
    assert entry["timeout"] <= 30  # called synchronously, and sync executions end at 30 s
    if manifest.type in ("fonte", "consulta"):
        assert entry["execute"] == []  # only CORE, with a key, calls them
        # consultas call fontes (executions) and count provider health (core provider_health rows)
        assert entry["scopes"] == (["executions.write", "rows.read", "rows.write"] if manifest.type == "consulta"
                                   else [])


def _sandbox_manifest():
    return json.loads((PLUGINS_DIR / "fonte" / "sandbox" / "plugin.json").read_text())


def _consulta_manifest():
    return json.loads((PLUGINS_DIR / "consulta" / "cadastral" / "plugin.json").read_text())


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda m: m.pop("version"), "version"),
        (lambda m: m.update(version="1.0"), "version"),
        (lambda m: m.update(id="Fonte_Sandbox"), "id"),
        (lambda m: m.update(id="consulta-sandbox"), "id"),
        (lambda m: m.update(type="banco"), "type"),
        (lambda m: m.pop("queries"), "queries"),
        (lambda m: m.update(category="cadastral"), "category"),
        (lambda m: m.update(events=["Not An Event"]), "events"),
        (lambda m: m.update(dependencies={"all_of": ["sandbox"]}), "dependencies"),
        (lambda m: m["config"]["properties"].update(token={"type": "integer", "secret": True}), "token"),
        (lambda m: m["config"]["properties"].update(token={"type": "string", "secret": True, "default": "x"}),
         "token"),
        (lambda m: m.update(extra=True), "extra"),
    ],
)
def test_schema_rejects_bad_fonte_manifests(mutate, where):
    manifest = _sandbox_manifest()
    mutate(manifest)
    with pytest.raises(ManifestError) as caught:
        parse_manifest(manifest)
    assert where in str(caught.value)


@pytest.mark.parametrize("field", ["category", "inputs", "default_fontes"])
def test_consulta_manifests_need_category_inputs_and_fontes(field):
    manifest = _consulta_manifest()
    manifest.pop(field)
    with pytest.raises(ManifestError):
        parse_manifest(manifest)


def test_consulta_inputs_are_restricted_kinds():
    manifest = _consulta_manifest()
    manifest["inputs"] = ["cpf", "passport"]
    with pytest.raises(ManifestError):
        parse_manifest(manifest)


def test_secret_fields_are_listed_and_hidden():
    manifest = load_manifest(PLUGINS_DIR / "fonte" / "infosimples" / "plugin.json")
    assert manifest.secret_fields == ["token"]
    shown = manifest.public_config({"token": "abcdefgh123", "timeout": 20})
    assert shown == {"token": "***", "timeout": 20}


def test_check_config_reports_fields_without_values():
    manifest = load_manifest(PLUGINS_DIR / "fonte" / "infosimples" / "plugin.json")
    assert check_config(manifest, {"token": "abcdefgh123"}) == []
    problems = check_config(manifest, {"timeout": "abc", "bogus": 1})
    fields = {p["field"] for p in problems}
    assert "config.token" in fields and "config.timeout" in fields
    assert all("abc" not in p["message"] for p in problems)
    assert {"field": "config.bogus", "message": "unknown field"} in problems


@pytest.mark.parametrize("folder", plugin_folders(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_served_manifest_passes_the_schema_it_was_loaded_with(folder):
    manifest = load_manifest(folder / "plugin.json")
    assert parse_manifest(manifest.to_json()) == manifest


def test_dependencies_missing():
    manifest = load_manifest(PLUGINS_DIR / "consulta" / "cadastral" / "plugin.json")
    assert manifest.dependencies.missing({"fonte-sandbox"}) == []
    assert manifest.dependencies.missing(set()) == ["one of fonte-brasilapi, fonte-infosimples, fonte-sandbox"]


def test_subscribes_with_wildcards():
    data = copy.deepcopy(_sandbox_manifest())
    data["events"] = ["tenant.*", "consulta.completed"]
    manifest = parse_manifest(data)
    assert manifest.subscribes("tenant.suspended")
    assert manifest.subscribes("consulta.completed")
    assert not manifest.subscribes("consulta.failed")


def test_load_manifest_rejects_an_id_that_does_not_match_its_folder(tmp_path):
    folder = tmp_path / "plugins" / "fonte" / "outra"
    folder.mkdir(parents=True)
    (folder / "plugin.json").write_text(json.dumps(_sandbox_manifest()))
    with pytest.raises(ManifestError, match="fonte-outra"):
        load_manifest(folder / "plugin.json")
