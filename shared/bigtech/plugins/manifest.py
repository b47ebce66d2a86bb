"""``plugin.json``: the manifest every plugin ships, checked against ``plugin.schema.json``.

Two layers on purpose: the JSON Schema is the published contract (also usable from editors and by
third parties), and ``Manifest`` is the typed view the code reads. ``load_manifest`` runs the schema
first so a bad manifest fails with a JSON-path message, then builds the model; ``check_config``
validates a tenant's config against the manifest's config schema (CORE's ``PUT /plugins/{id}``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import jsonschema

    from ..outbound import OutboundPolicy

# jsonschema and the outbound guard (httpx) are imported where a manifest or a config is checked, not with
# this module: CORE functions read manifests' models on routes that never validate one (cold start).

SCHEMA_PATH = Path(__file__).with_name("plugin.schema.json")

PluginType = Literal["fonte", "consulta", "pagamento", "mercado", "funcional"]
Category = Literal["cadastral", "veicular", "credito"]
InputKind = Literal["cpf", "cnpj", "placa", "renavam"]


class ManifestError(ValueError):
    """``plugin.json`` (or a config checked against it) breaks the schema; ``problems`` lists each one."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class Dependencies(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_of: list[str] = Field(default_factory=list)
    any_of: list[str] = Field(default_factory=list)

    def missing(self, enabled: set[str]) -> list[str]:
        """What keeps the plugin from being enabled given the tenant's enabled plugin ids ([] = fine)."""
        problems = [plugin_id for plugin_id in self.all_of if plugin_id not in enabled]
        if self.any_of and not enabled.intersection(self.any_of):
            problems.append("one of " + ", ".join(self.any_of))
        return problems


class Manifest(BaseModel):
    """Typed ``plugin.json``. Build it with ``load_manifest``/``parse_manifest`` (schema-checked)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    schema_ref: str | None = Field(default=None, alias="$schema")
    id: str
    type: PluginType
    name: str
    version: str
    description: str
    config: dict[str, Any]
    dependencies: Dependencies
    events: list[str]
    category: Category | None = None
    inputs: list[InputKind] = Field(default_factory=list)
    optional_inputs: list[str] = Field(default_factory=list)
    default_fontes: list[str] = Field(default_factory=list)
    queries: list[str] = Field(default_factory=list)
    billing: str | None = None
    outbound_hosts: list[str] = Field(default_factory=list)

    @property
    def secret_fields(self) -> list[str]:
        """Config fields marked ``"secret": true``: stored encrypted, never returned, never logged."""
        properties = self.config.get("properties", {})
        return sorted(name for name, spec in properties.items() if spec.get("secret") is True)

    @property
    def generated_secret_fields(self) -> list[str]:
        """Secret fields marked ``"generated": true``: CORE fills them with a random value when the plugin
        is enabled for a tenant that has none (e.g. the sandbox gateway's webhook signing key)."""
        properties = self.config.get("properties", {})
        return sorted(name for name, spec in properties.items()
                      if spec.get("secret") is True and spec.get("generated") is True)

    @property
    def outbound_fields(self) -> list[str]:
        """Config fields marked ``"outbound": true``: URLs the plugin fetches (the outbound guard's job)."""
        properties = self.config.get("properties", {})
        return sorted(name for name, spec in properties.items() if spec.get("outbound") is True)

    def outbound_policy(self) -> OutboundPolicy:
        """The outbound guard's policy for this plugin, read from the environment now."""
        from ..outbound import OutboundPolicy

        return OutboundPolicy.from_env(self.outbound_hosts)

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` with secrets replaced by ``"***"`` (``None`` stays ``None``): safe to show or log."""
        secrets = set(self.secret_fields)
        return {k: ("***" if k in secrets and v is not None else v) for k, v in config.items()}

    def with_defaults(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` completed with the defaults declared in the config schema."""
        merged = {
            name: spec["default"]
            for name, spec in self.config.get("properties", {}).items()
            if "default" in spec
        }
        merged.update(config)
        return merged

    def subscribes(self, event_type: str) -> bool:
        for pattern in self.events:
            if pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1])):
                return True
        return False

    def to_json(self) -> dict[str, Any]:
        # Defaults left out: the schema forbids empty optional lists, so the dump must be what a
        # plugin.json would say, and ``GET /manifest`` must pass the same schema it was loaded with.
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


@lru_cache(maxsize=1)
def manifest_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _problems(validator: jsonschema.protocols.Validator, instance: Any) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        if error.validator == "not" and error.validator_value == {}:  # the schema's "forbidden" marker
            problems.append(f"{error.json_path}: not allowed here")
        else:
            problems.append(f"{error.json_path}: {error.message}")
    return problems


def parse_manifest(data: Any, source: str = "plugin.json") -> Manifest:
    """Validate ``data`` against the schema (and the config schema as a schema), then type it."""
    import jsonschema

    problems = _problems(jsonschema.Draft202012Validator(manifest_schema()), data)
    if not problems:
        try:
            jsonschema.Draft202012Validator.check_schema(data["config"])
        except jsonschema.SchemaError as error:
            problems.append(f"$.config: not a valid JSON Schema: {error.message}")
    if problems:
        raise ManifestError(source, problems)
    return Manifest.model_validate(data)


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ManifestError(str(path), [f"cannot read: {error}"]) from None
    manifest = parse_manifest(data, str(path))
    expected = f"{path.parent.parent.name}-{path.parent.name}"
    if path.parent.parent.parent.name == "plugins" and manifest.id != expected:
        raise ManifestError(str(path), [f"$.id: a plugin in plugins/<tipo>/<nome>/ must be {expected!r}"])
    return manifest


def check_config(manifest: Manifest, config: dict[str, Any]) -> list[dict[str, str]]:
    """Problems of a tenant ``config`` for this plugin as ``[{field, message}]`` ([] = valid).

    The ``{field, message}`` shape is what ``Unprocessable`` carries in ``details``. Messages never
    echo values (a secret could be in them).
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(manifest.config)
    details = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        field = ".".join(str(p) for p in error.absolute_path) or "config"
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else "config"
            details.append({"field": f"config.{missing}" if field == "config" else field, "message": "required"})
        elif error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            prefix = "config." if field == "config" else f"config.{field}."
            details += [{"field": prefix + str(name), "message": "unknown field"}
                        for name in sorted(set(error.instance) - known)]
        else:
            details.append({"field": f"config.{field}" if field != "config" else field,
                            "message": f"fails '{error.validator}'"})
    return details + outbound_problems(manifest, config)


def outbound_problems(manifest: Manifest, config: dict[str, Any]) -> list[dict[str, str]]:
    """URL fields the outbound guard refuses (``docs/security.md`` § Outbound requests)."""
    if not manifest.outbound_fields:
        return []
    from ..outbound import OutboundRefused, check_url

    policy = manifest.outbound_policy()
    details = []
    for name in manifest.outbound_fields:
        value = config.get(name)
        if not isinstance(value, str):
            continue  # absent (the default applies) or the wrong type (the schema says so)
        try:
            check_url(value, policy)
        except OutboundRefused as refused:
            details.append({"field": f"config.{name}", "message": f"{refused.reason}: {refused.message}"})
    return details


__all__ = [
    "Category",
    "Dependencies",
    "InputKind",
    "Manifest",
    "ManifestError",
    "PluginType",
    "check_config",
    "load_manifest",
    "manifest_schema",
    "outbound_problems",
    "parse_manifest",
]
