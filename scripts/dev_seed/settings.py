"""What the seed needs to know, decoupled from the stack so it can seed any Appwrite endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeedSettings:
    endpoint: str
    project_id: str
    api_key: str
    admin_email: str
    admin_password: str

    @classmethod
    def from_stack(cls, stack_settings: Any) -> SeedSettings:
        """From a ``local_appwrite.StackSettings`` (or anything with the same attribute names)."""
        return cls(
            endpoint=stack_settings.endpoint,
            project_id=stack_settings.project_id,
            api_key=stack_settings.api_key,
            admin_email=stack_settings.admin_email,
            admin_password=stack_settings.admin_password,
        )
