"""Platform settings handlers (platform admins only): ``GET /settings`` and ``PATCH /settings``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from bigtech import appwrite_access, platform_settings
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, commit_change
from bigtech.errors import Unprocessable
from bigtech.http import Request
from bigtech.identity import current
from bigtech.platform_settings import SETTINGS_ROW, SETTINGS_TABLE, PlatformSettings, PlatformSettingsUpdate
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.uow import UnitOfWork


def public(settings: PlatformSettings) -> dict:
    """The settings as the API shows them: the platform's one row (``id``), cents with their currency."""
    return {"id": SETTINGS_ROW, **settings.model_dump(), "currency": "BRL"}

def read(request: Request) -> Any:
    settings, _ = platform_settings.load(appwrite_access.tables(request))
    return {"settings": public(settings)}


def update(request: Request) -> Any:
    body = request.model(PlatformSettingsUpdate)
    changes = body.model_dump(exclude_unset=True)
    nulls = [key for key, value in changes.items() if value is None]
    if nulls:
        raise Unprocessable("Settings cannot be null.",
                            details=[{"field": key, "message": "Must be a number."} for key in nulls])
    if not changes:
        raise Unprocessable("Nothing to change.", details=[{"field": "body", "message": "Send at least one setting."}])
    identity = current(request)
    tables = appwrite_access.tables(request)

    def merged_with(current_settings: PlatformSettings) -> PlatformSettings:
        merged = {**current_settings.model_dump(), **changes}
        if merged["min_purchase_credits"] > merged["max_purchase_credits"]:
            field = "max_purchase_credits" if "max_purchase_credits" in changes else "min_purchase_credits"
            raise Unprocessable.field(field, "min_purchase_credits must not exceed max_purchase_credits.")
        if "catalogue" in changes:  # a subset of the bounds: merged over the current ones, checked whole
            merged["catalogue"] = {**current_settings.catalogue.model_dump(), **changes["catalogue"]}
        try:
            return PlatformSettings(**merged)
        except ValidationError as error:
            raise Unprocessable("Invalid settings.", details=[
                {"field": ".".join(str(part) for part in problem["loc"]), "message": problem["msg"]}
                for problem in error.errors()]) from None

    def stage(unit: UnitOfWork) -> PlatformSettings:
        current_settings, _exists = platform_settings.load(tables)
        new = merged_with(current_settings)
        value = json.dumps(new.model_dump(), sort_keys=True)
        unit.upsert(CORE_DATABASE_ID, SETTINGS_TABLE, SETTINGS_ROW, {"value": value})
        return new

    stage(UnitOfWork())  # validate against the current values before writing anything
    entry, new = commit_change(tables, AuditTrail.platform(), Actor.of(identity), action="settings.update",
                               resource=("settings", SETTINGS_ROW), details={"changes": changes}, stage=stage)
    return {"settings": public(new) if new else None, "audit_id": audit_id(entry)}
