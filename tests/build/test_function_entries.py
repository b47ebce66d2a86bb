"""appwrite.json's functions are generated from the function folders (scripts/function_entries.py)."""

import json

import function_entries


def test_appwrite_json_functions_are_up_to_date():
    problem = function_entries.out_of_date()
    assert not problem, problem


def test_a_new_fonte_needs_only_its_plugin_json(tmp_path):
    (tmp_path / "functions" / "health" / "src").mkdir(parents=True)
    (tmp_path / "functions" / "health" / "src" / "main.py").write_text("")
    (tmp_path / "functions" / "health" / "function.json").write_text('{"execute": ["any"], "timeout": 15}')
    fonte = tmp_path / "plugins" / "fonte" / "nova"
    fonte.mkdir(parents=True)
    (fonte / "plugin.json").write_text(json.dumps({"id": "fonte-nova", "type": "fonte"}))
    (tmp_path / "appwrite.json").write_text('{"projectName": "Bigtech", "functions": []}\n')

    health, nova = function_entries.entries(tmp_path)
    assert health["$id"] == "health" and health["execute"] == ["any"] and health["timeout"] == 15
    assert health["specification"] == "s-1vcpu-512mb"  # CORE's default
    assert nova == {**function_entries.COMMON, "$id": "fonte-nova", "name": "fonte-nova",
                    "path": "plugins/fonte/nova"}
    assert "fonte-nova" in function_entries.out_of_date(tmp_path)  # not yet in that appwrite.json


def test_unknown_settings_are_refused(tmp_path):
    (tmp_path / "functions" / "x" / "src").mkdir(parents=True)
    (tmp_path / "functions" / "x" / "src" / "main.py").write_text("")
    (tmp_path / "functions" / "x" / "function.json").write_text('{"runtime": "node-22"}')
    (tmp_path / "plugins").mkdir()
    try:
        function_entries.entries(tmp_path)
    except function_entries.EntriesError as error:
        assert "runtime" in str(error)
    else:
        raise AssertionError("an unknown key was accepted")
