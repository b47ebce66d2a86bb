"""The platform admin: an Appwrite user carrying the label ``admin`` (how CORE recognises admins)."""

from __future__ import annotations

from appwrite.client import Client
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.users import Users

from .settings import SeedSettings

ADMIN_LABEL = "admin"
ADMIN_NAME = "Platform admin"


def ensure_platform_admin(client: Client, email: str, password: str) -> tuple[str, bool]:
    """Create the admin user if no user has ``email``; make sure it has the label. → (user id, created)."""
    users = Users(client)
    found = users.list(queries=[Query.equal("email", [email]), Query.limit(1)])
    if found.users:
        user = found.users[0]
        created = False
    else:
        user = users.create(ID.unique(), email=email, password=password, name=ADMIN_NAME)
        created = True
    if ADMIN_LABEL not in (user.labels or []):
        users.update_labels(user.id, [*(user.labels or []), ADMIN_LABEL])
    return user.id, created


def seed(client: Client, settings: SeedSettings) -> list[str]:
    user_id, created = ensure_platform_admin(client, settings.admin_email, settings.admin_password)
    state = "created" if created else "exists"
    return [f"platform admin   {settings.admin_email} / {settings.admin_password}   (user {user_id}, {state})"]
