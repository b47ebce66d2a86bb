"""Request body of ``POST /subject-report``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SubjectReportBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document: str = Field(min_length=1, max_length=32, description="CPF or CNPJ, any common format")
    scope: Literal["tenant", "platform"] = "tenant"
    format: Literal["json", "pdf"] = "json"
