"""What a connected Microsoft 365 tenant contains, as the identity platform lists it.

The simulated platform derives a tenant's directory from the engine seed and the tenant itself
(its ID, or its domain before it has one): the same tenant always has the same users, groups,
sites and teams, each with a size and an item count. How many users a tenant has is chosen at
the simulated sign-in (``complete-device-login --users N``) or, when not chosen, drawn from the
tenant like everything else (most tenants are small, a few are large), so demo data and tests
look like real organisations.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

from vdc_graph.demo import names
from vdc_graph.enums import BackupObjectType

MIB = 1024 * 1024


@dataclass(frozen=True)
class DirectoryObject:
    type: BackupObjectType
    external_id: str  # stable: a UPN for users, an ID for groups, sites and teams
    name: str
    size_bytes: int  # mailbox (+ OneDrive for users), site or team content
    item_count: int
    onedrive_bytes: int = 0  # users: the part of size_bytes in OneDrive
    onedrive_items: int = 0

    @property
    def address(self) -> str:
        return self.external_id if self.type is BackupObjectType.USER else ""


@dataclass(frozen=True)
class TenantDirectory:
    tenant: str
    users: tuple[DirectoryObject, ...]
    groups: tuple[DirectoryObject, ...]
    sites: tuple[DirectoryObject, ...]
    teams: tuple[DirectoryObject, ...]

    @property
    def objects(self) -> tuple[DirectoryObject, ...]:
        return self.users + self.groups + self.sites + self.teams

    def find(self, type: BackupObjectType, key: str) -> DirectoryObject | None:
        """An object by its external ID or (case-insensitively) its name."""
        wanted = key.strip().lower()
        for obj in self.objects:
            if obj.type is type and wanted in (obj.external_id.lower(), obj.name.lower()):
                return obj
        return None


def _rng(seed: int, tenant: str, *parts: object) -> random.Random:
    text = ":".join(str(p) for p in (seed, tenant.lower(), *parts))
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def default_user_count(seed: int, tenant: str) -> int:
    """Users of a tenant whose size was not chosen at sign-in: half are small businesses,
    a third mid-sized, the rest large."""
    rng = _rng(seed, tenant, "size")
    band = rng.random()
    if band < 0.5:
        return rng.randint(5, 25)
    if band < 0.85:
        return rng.randint(26, 150)
    return rng.randint(151, 600)


def _object_id(rng: random.Random) -> str:
    return "%08x-%04x-%04x-%04x-%012x" % (  # noqa: UP031  (a GUID's fixed layout)
        rng.getrandbits(32),
        rng.getrandbits(16),
        rng.getrandbits(16),
        rng.getrandbits(16),
        rng.getrandbits(48),
    )


@lru_cache(maxsize=256)
def build_directory(seed: int, tenant: str, domain: str, user_count: int) -> TenantDirectory:
    """The directory of ``tenant`` (its ID, or domain) with ``user_count`` users."""
    rng = _rng(seed, tenant, "directory")
    domain = (domain or "tenant.onmicrosoft.com").lower()
    users, seen = [], set()
    for _ in range(user_count):
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        local, suffix = f"{first}.{last}".lower().replace(" ", "").replace("'", ""), 1
        while f"{local}{suffix if suffix > 1 else ''}" in seen:
            suffix += 1
        local = f"{local}{suffix if suffix > 1 else ''}"
        seen.add(local)
        mailbox, onedrive = rng.randint(50, 20_000) * MIB, rng.randint(0, 30_000) * MIB
        mail_items, files = rng.randint(200, 60_000), rng.randint(0, 15_000)
        users.append(
            DirectoryObject(
                BackupObjectType.USER,
                f"{local}@{domain}",
                f"{first} {last}",
                mailbox + onedrive,
                mail_items + files,
                onedrive,
                files,
            )
        )

    def shared(
        kind: BackupObjectType, labels: tuple[str, ...], mib: int, items: int
    ) -> tuple[DirectoryObject, ...]:
        return tuple(
            DirectoryObject(
                kind, _object_id(rng), name, rng.randint(10, mib) * MIB, rng.randint(50, items)
            )
            for name in labels
        )

    def some(labels: tuple[str, ...], per: int, least: int) -> tuple[str, ...]:
        return labels[: max(least, min(len(labels), user_count // per))]

    groups = shared(BackupObjectType.GROUP, some(names.GROUPS, 15, 1), 5_000, 20_000)
    sites = shared(BackupObjectType.SITE, some(names.SITES, 10, 2), 50_000, 80_000)
    teams = shared(BackupObjectType.TEAM, some(names.TEAMS, 20, 1), 10_000, 30_000)
    return TenantDirectory(tenant, tuple(users), groups, sites, teams)
