"""Who is calling, for which tenant, with which role — resolved once per execution.

Inputs are Appwrite's: ``x-appwrite-user-id`` (set by the executions API, cannot be spoofed there),
the user's team memberships (one team per tenant, membership roles ``owner|admin|analyst|viewer``),
the user label ``admin`` (platform admin) and, optionally, ``x-tenant-id`` to pick a tenant.

The resolution is lazy, to spend as few Appwrite calls as possible:

======================================  =========================================================
caller and action                       Appwrite calls
======================================  =========================================================
member, reading in their tenant          1: ``Users.list_memberships`` (accepted ones only)
member, changing something               2: + core ``tenants`` row (suspended?)
platform admin inside a tenant           3: memberships, ``Users.get`` (labels), ``tenants`` row
platform route (tenants, settings)       1: ``Users.get`` (labels)
======================================  =========================================================

``Users.get`` is only needed to know the labels (and, for a member of several tenants who names none,
the ``default_tenant`` pref), so it is skipped whenever a membership already grants the action; the
tenant row is skipped for reads because a confirmed membership already proves the tenant exists and
suspension only blocks writes. Nothing is cached beyond the execution.

Only **confirmed** memberships count: a pending invitation grants nothing (it is listed on ``/me``).

**Default tenant** (a call without ``x-tenant-id`` by a member of several tenants): the user's pref
``default_tenant`` (``account.updatePrefs({default_tenant: id})``) when they are still a member of that
tenant, else the tenant they joined first (oldest accepted membership). A single membership is used as
is; ``x-tenant-id`` always wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

from . import permissions
from .accounts import is_service_membership, strongest_role
from .errors import BadRequest, Forbidden, NotFound, Unauthorized
from .permissions import PLATFORM_ADMIN, PLATFORM_ADMIN_LABEL
from .schema_constants import tenant_database_id
from .tenancy import Tenant, find_tenant, valid_tenant_id

TENANT_HEADER = "x-tenant-id"
USER_HEADER = "x-appwrite-user-id"


DEFAULT_TENANT_PREF = "default_tenant"
MAX_MEMBERSHIPS = 100  # tenants one user may belong to that identity sees (Appwrite's page limit)


@dataclass(frozen=True)
class Membership:
    tenant_id: str
    tenant_name: str
    role: str
    membership_id: str = ""
    joined: str = ""  # when it was accepted (ISO 8601); orders the default tenant
    confirmed: bool = True  # False: a pending invitation, which grants nothing
    invited: str = ""
    user_name: str = ""  # the member's own display name (Appwrite's membership ``userName``)


@dataclass(frozen=True)
class UserInfo:
    id: str
    name: str
    email: str
    labels: tuple[str, ...] = ()
    status: bool = True
    default_tenant: str | None = None  # the user's pref, checked against their memberships before use

    @property
    def platform_admin(self) -> bool:
        return PLATFORM_ADMIN_LABEL in self.labels

    def to_public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "labels": list(self.labels)}


class Directory(Protocol):
    """The three look-ups identity needs; ``AppwriteDirectory`` does them with the SDK, tests fake them."""

    def memberships(self, user_id: str) -> list[Membership]: ...

    def user(self, user_id: str) -> UserInfo | None: ...

    def tenant(self, tenant_id: str) -> Tenant | None: ...


class AppwriteDirectory:
    """``Directory`` over the Appwrite SDK, counting its calls (the budget is tested)."""

    def __init__(self, users: Users, tables: TablesDB) -> None:
        self._users = users
        self._tables = tables
        self.calls = 0

    def memberships(self, user_id: str) -> list[Membership]:
        """Accepted memberships only (queried so): pending invitations, however many a stranger sends,
        can never push a user's real tenants out of the page."""
        return self._list(user_id, confirmed=True)

    def invitations(self, user_id: str) -> list[Membership]:
        """Pending invitations (``GET /me`` shows them; they grant nothing)."""
        return self._list(user_id, confirmed=False)

    def _list(self, user_id: str, confirmed: bool) -> list[Membership]:
        self.calls += 1
        queries = [Query.equal("confirm", [confirmed]), Query.limit(MAX_MEMBERSHIPS)]
        try:
            listed = self._users.list_memberships(user_id, queries, total=False).memberships
        except AppwriteException as error:
            if error.code == 404:
                return []
            raise
        found = []
        for membership in listed:
            role = strongest_role(list(membership.roles))
            if role is not None and bool(membership.confirm) == confirmed and not is_service_membership(membership):
                found.append(Membership(membership.teamid, membership.teamname, role, membership.id,
                                        membership.joined or "", confirmed, membership.invited or "",
                                        membership.username or ""))
        return found

    def user(self, user_id: str) -> UserInfo | None:
        self.calls += 1
        try:
            user = self._users.get(user_id)
        except AppwriteException as error:
            if error.code == 404:
                return None
            raise
        prefs = getattr(getattr(user, "prefs", None), "data", None) or {}
        default = prefs.get(DEFAULT_TENANT_PREF) if isinstance(prefs, dict) else None
        return UserInfo(user.id, user.name, user.email, tuple(user.labels or ()), bool(user.status),
                        default if isinstance(default, str) and default else None)

    def tenant(self, tenant_id: str) -> Tenant | None:
        self.calls += 1
        return find_tenant(self._tables, tenant_id)


_UNSET: Any = object()


@dataclass
class Identity:
    """The resolved caller. ``role`` is a tenant role, ``PLATFORM_ADMIN``, or ``None`` (no tenant)."""

    user_id: str
    directory: Directory
    tenant_id: str | None = None
    role: str | None = None
    memberships: list[Membership] = field(default_factory=list)
    invitations: list[Membership] = field(default_factory=list)  # pending: listed, never used
    ip: str | None = None
    _user: Any = _UNSET
    _tenant: Any = _UNSET

    # -- lazy look-ups (each at most once per execution) ----------------------------------------
    def user(self) -> UserInfo:
        if self._user is _UNSET:
            self._user = self.directory.user(self.user_id)
        if self._user is None:
            raise Unauthorized("The calling user does not exist.", code="user_not_found")
        return self._user

    @property
    def platform_admin(self) -> bool:
        return self.role == PLATFORM_ADMIN or self.user().platform_admin

    def tenant(self) -> Tenant | None:
        if self.tenant_id is None:
            return None
        if self._tenant is _UNSET:
            self._tenant = self.directory.tenant(self.tenant_id)
        return self._tenant

    def require_tenant(self) -> Tenant:
        tenant = self.tenant()
        if tenant is None:
            raise NotFound("Tenant not found.", code="tenant_not_found")
        return tenant

    @property
    def database_id(self) -> str:
        """The tenant's database: from its row when already loaded, else by convention (no extra call)."""
        if self.tenant_id is None:
            raise NotFound("No tenant selected.", code="tenant_not_found")
        if self._tenant is not _UNSET and self._tenant is not None:
            return self._tenant.database_id
        return tenant_database_id(self.tenant_id)

    @property
    def actor(self) -> str:
        return self.user_id

    @property
    def display_name(self) -> str | None:
        """The caller's name for the audit trail, from what was already read (the user, when loaded, else
        the memberships, which name the user): never an extra Appwrite call."""
        if self._user is not _UNSET and self._user is not None and self._user.name:
            return self._user.name
        for membership in self.memberships:
            if membership.user_name:
                return membership.user_name
        return None

    def pending_invitations(self) -> list[Membership]:
        """The caller's pending invitations: one extra call, made only by routes that show them."""
        fetch = getattr(self.directory, "invitations", None)
        return fetch(self.user_id) if fetch is not None else self.invitations

    def permissions(self) -> list[str]:
        return permissions.permissions_for(self.role, platform_admin=self.platform_admin)


def resolve(headers: Mapping[str, str], action: str, directory: Directory) -> Identity:
    """Resolve and authorize the caller of ``action``; raises 401/400/403/404 when it may not proceed."""
    user_id = (headers.get(USER_HEADER) or "").strip()
    if permissions.scope_of(action) == "public":  # no identity needed, none resolved (no Appwrite call)
        return Identity(user_id, directory, ip=headers.get("x-appwrite-client-ip") or None)
    if not user_id:
        raise Unauthorized("Sign in to call this function.", code="unauthenticated")
    requested = (headers.get(TENANT_HEADER) or "").strip() or None
    identity = Identity(user_id, directory, ip=headers.get("x-appwrite-client-ip") or None)
    scope = permissions.scope_of(action)

    if scope == "platform":
        if not identity.user().platform_admin:
            raise Forbidden("Only platform admins may do this.", code="platform_admin_required")
        identity.role = PLATFORM_ADMIN
        permissions.check(action, identity.role)
        return identity

    listed = directory.memberships(user_id)
    identity.memberships = [m for m in listed if m.confirmed]
    identity.invitations = [m for m in listed if not m.confirmed]
    _pick_tenant(identity, requested, scope)
    if identity.tenant_id is None:  # ``self`` scope without a tenant (e.g. GET /me of a new user)
        permissions.check(action, identity.role)
        return identity
    if not permissions.allowed(identity.role, action) and identity.role != PLATFORM_ADMIN \
            and identity.user().platform_admin:
        identity.role = PLATFORM_ADMIN  # an admin who is also a weaker member acts as admin
    suspended = False
    if identity.role != PLATFORM_ADMIN and not permissions.is_read(action) and permissions.allowed(
            identity.role, action):
        tenant = identity.tenant()
        if tenant is None:
            raise NotFound("Tenant not found.", code="tenant_not_found")
        suspended = tenant.suspended
    permissions.check(action, identity.role, suspended=suspended)
    return identity


def _pick_tenant(identity: Identity, requested: str | None, scope: str) -> None:
    by_tenant = {m.tenant_id: m for m in identity.memberships}
    if requested is not None:
        membership = by_tenant.get(requested)
        if membership is not None:
            identity.tenant_id, identity.role = membership.tenant_id, membership.role
            return
        if not identity.user().platform_admin:
            raise Forbidden("You are not a member of this tenant.", code="not_a_member")
        if not valid_tenant_id(requested):
            raise NotFound("Tenant not found.", code="tenant_not_found")
        identity.tenant_id, identity.role = requested, PLATFORM_ADMIN
        identity.require_tenant()  # a platform admin may name any tenant, but it must exist
        return
    if len(by_tenant) == 1:
        membership = next(iter(by_tenant.values()))
        identity.tenant_id, identity.role = membership.tenant_id, membership.role
        return
    if len(by_tenant) > 1:
        membership = default_membership(identity)
        identity.tenant_id, identity.role = membership.tenant_id, membership.role
        return
    if scope == "self":
        return
    if identity.user().platform_admin:
        raise BadRequest("Choose a tenant with the x-tenant-id header.", code="tenant_required")
    raise Forbidden("You are not a member of any tenant.", code="no_tenant")


def default_membership(identity: Identity) -> Membership:
    """The tenant a member of several tenants works in when they name none (rule in the module doc)."""
    by_tenant = {m.tenant_id: m for m in identity.memberships}
    preferred = identity.user().default_tenant
    if preferred in by_tenant:
        return by_tenant[preferred]
    return min(identity.memberships, key=lambda m: (m.joined or "\uffff", m.tenant_id))


def authenticate(request: Any, route: Any) -> None:
    """``serve(router, before=[authenticate])`` hook: resolve the caller for ``route.action`` and keep it
    on the request (``current(request)``). Built from this execution's key, never cached."""
    from .appwrite_access import key_client  # local: keeps this module importable without settings

    client = key_client(request)
    directory = AppwriteDirectory(Users(client), TablesDB(client))
    request.identity = resolve(request.headers, route.action, directory)


def current(request: Any) -> Identity:
    identity = getattr(request, "identity", None)
    if identity is None:
        raise Unauthorized("Sign in to call this function.", code="unauthenticated")
    return identity
