"""Request bodies and queries of the members function (invalid → 422 with field errors)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Role = Literal["owner", "admin", "analyst", "viewer"]


class AddMember(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    name: str | None = Field(None, min_length=1, max_length=128)
    role: Role

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class ChangeRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
