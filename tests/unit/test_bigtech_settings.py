"""Function settings: Appwrite's runtime variables first, the developer's names as fallback, env over .env."""

from bigtech.settings import load_settings


def test_runtime_variables_win_over_fallbacks(tmp_path):
    env = {
        "APPWRITE_FUNCTION_API_ENDPOINT": "http://appwrite/v1",
        "APPWRITE_ENDPOINT": "http://dev/v1",
        "APPWRITE_FUNCTION_PROJECT_ID": "prod",
        "APPWRITE_FUNCTION_ID": "health",
    }
    settings = load_settings(env, env_file=tmp_path / "missing.env")
    assert (settings.endpoint, settings.project_id, settings.function_id) == ("http://appwrite/v1", "prod", "health")


def test_fallbacks_and_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("APPWRITE_ENDPOINT=http://from-file/v1\nAPPWRITE_PROJECT_ID=file\nBIGTECH_BUS_URL=amqp://x\n")
    settings = load_settings({"APPWRITE_PROJECT_ID": "env"}, env_file=env_file)
    assert settings.endpoint == "http://from-file/v1"
    assert settings.project_id == "env"  # the environment beats .env
    assert settings.bus_url == "amqp://x"


def test_nothing_set_gives_empty_settings(tmp_path):
    settings = load_settings({}, env_file=tmp_path / "none.env")
    assert settings.endpoint is None and settings.project_id is None
    assert settings.environment == "production"  # unset = production


def test_read_fresh_each_call(tmp_path):
    missing = tmp_path / "none.env"
    assert load_settings({"BIGTECH_BUS_URL": "amqp://a"}, missing).bus_url == "amqp://a"
    assert load_settings({"BIGTECH_BUS_URL": "amqp://b"}, missing).bus_url == "amqp://b"


def test_an_edited_dotenv_is_read_again(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BIGTECH_BUS_URL=amqp://first\n")
    assert load_settings({}, env_file).bus_url == "amqp://first"
    assert load_settings({}, env_file).bus_url == "amqp://first"  # parsed once, kept while the file is unchanged
    env_file.write_text("BIGTECH_BUS_URL=amqp://second-one\n")
    assert load_settings({}, env_file).bus_url == "amqp://second-one"


def test_a_dotenv_naming_variables_follows_the_environment(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("BIGTECH_BUS_URL=amqp://${BUS_HOST}\n")
    monkeypatch.setenv("BUS_HOST", "a")
    assert load_settings({}, env_file).bus_url == "amqp://a"
    monkeypatch.setenv("BUS_HOST", "b")
    assert load_settings({}, env_file).bus_url == "amqp://b"
