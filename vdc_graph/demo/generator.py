"""The deterministic demo data generator.

Everything is drawn from ``random.Random`` instances derived from the seed, and every time from
the anchor, so one ``(seed, anchor)`` always gives the same rows, primary keys and creation
times included (nothing reads the clock, iterates a set or depends on the process). Each
customer draws from its own stream (``seed/provider/index``); only the uniqueness of names and
IDs ties one customer's data to the ones before it.

Rows are collected in memory and written with ``bulk_create`` in batches, parents before
children, all inside one transaction: a failure leaves nothing behind, and a half-written data
set can never be mistaken for a complete one by the idempotency check.
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction
from tqdm import tqdm

from vdc_graph import clock

if TYPE_CHECKING:
    from vdc_graph.identity import TenantDirectory
from vdc_graph.db.models import (
    BackupPolicy,
    BackupSession,
    Customer,
    CustomerAdminUser,
    Invitation,
    IpRange,
    LicensedUser,
    LicensedUsersMonth,
    MaintenanceWindow,
    NotificationContact,
    Onboarding,
    PortalUser,
    Restore,
    Role,
    ServiceProvider,
    ServiceStatus,
    SessionLogRecord,
    SimulatedTenant,
    SoftwareUsage,
    Subscription,
    UsageReport,
    UsageReportSaasLine,
    UsageReportSoftwareLine,
    Webhook,
)
from vdc_graph.enums import (
    SCHEDULE_STARTER,
    AddedBy,
    BackupObjectType,
    BackupType,
    ContactKind,
    ContractType,
    LicenseModel,
    LogStatus,
    M365Service,
    NotificationTopic,
    OnboardingStep,
    Permission,
    PolicyStatus,
    Region,
    RestoreStatus,
    ServiceHealth,
    ServiceName,
    SessionStatus,
    SessionTrigger,
    SoftwareWorkload,
    SourceType,
    SubscriptionPlan,
    UsageReportStatus,
    WebhookEvent,
)
from vdc_graph.resolvers.platform import LEGAL_AGREEMENT
from vdc_graph.usage_reports import (
    next_month,
    report_number,
    saas_line_values,
    software_line_values,
    usage_by_workload,
)

from . import names

DEMO_PROVIDER = "Demo Provider"
OTHER_PROVIDER = "Other Provider"
OTHER_PROVIDER_CUSTOMERS = 5
HISTORY_MONTHS = 12
REPORT_MONTHS = 6  # past months with a usage report: the last awaits review, older were sent
MAX_TENANT_USERS = 5000

BATCH_SIZE = 1000  # rows per INSERT statement
FLUSH_ROWS = 5000  # rows buffered before they are written

# The first customers of a provider cover every contract and source type, so that even a small
# data set shows each of them; index 0 and 2 are active (the admin's customer-portal targets).
_FIRST_CONTRACTS = (
    ContractType.ANNUAL,
    ContractType.PENDING,
    ContractType.MONTH_TO_MONTH,
    ContractType.TRIAL,
    ContractType.SUSPENDED,
    ContractType.EXPIRED,
)
_FIRST_SOURCES = (
    SourceType.VCSP_PULSE,
    SourceType.MICROSOFT_MARKETPLACE,
    SourceType.CLOUDBLUE,
    SourceType.DIRECT,
)
_CONTRACT_WEIGHTS = (
    (ContractType.ANNUAL, 34),
    (ContractType.MONTH_TO_MONTH, 30),
    (ContractType.TRIAL, 9),
    (ContractType.PENDING, 14),
    (ContractType.SUSPENDED, 7),
    (ContractType.EXPIRED, 6),
)
_SOURCE_WEIGHTS = (
    (SourceType.VCSP_PULSE, 45),
    (SourceType.MICROSOFT_MARKETPLACE, 25),
    (SourceType.CLOUDBLUE, 20),
    (SourceType.DIRECT, 10),
)
_REGION_WEIGHTS = ((Region.EMEA, 45), (Region.AMER, 40), (Region.APJ, 15))
_RETENTION_CHOICES = (1, 3, 3, 5, 5, 5, 7, 10, None, None)  # None: unlimited
_INACTIVE = (ContractType.SUSPENDED, ContractType.EXPIRED)

# Parents before children: the order in which buffered rows are written.
_INSERT_ORDER: tuple[type[Model], ...] = (
    Customer,
    Subscription,
    Onboarding,
    Invitation,
    IpRange,
    NotificationContact,
    CustomerAdminUser,
    SimulatedTenant,
    BackupPolicy,
    BackupSession,
    SessionLogRecord,
    LicensedUser,
    LicensedUsersMonth,
    Restore,
    SoftwareUsage,
    UsageReport,
    UsageReportSaasLine,
    UsageReportSoftwareLine,
    Webhook,
    ServiceStatus,
    MaintenanceWindow,
)


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed_demo` wrote (all zero when ``created`` is false).

    Counts cover both demo providers: ``customers`` is Demo Provider's customers plus Other
    Provider's handful.
    """

    created: bool
    providers: int
    users: int
    customers: int
    policies: int
    sessions: int
    log_records: int
    licensed_users: int


@dataclass(frozen=True)
class Volume:
    """How much history each customer gets; less per customer as the data set grows."""

    session_days: int  # one session per policy per day, for this many days
    processing_lines: int  # most "Processing …" log lines in one session
    licensed_user_rows: int  # most users per tenant (each backed-up one is a licensed user)
    max_restores: int  # most restores per customer over the last three months


def volume_for(customers: int) -> Volume:
    if customers <= 100:  # every licensed user of every tenant is listed
        return Volume(
            session_days=14,
            processing_lines=6,
            licensed_user_rows=MAX_TENANT_USERS,
            max_restores=5,
        )
    if customers <= 1000:
        return Volume(session_days=7, processing_lines=3, licensed_user_rows=40, max_restores=3)
    if customers <= 3000:
        return Volume(session_days=4, processing_lines=2, licensed_user_rows=12, max_restores=2)
    return Volume(session_days=3, processing_lines=1, licensed_user_rows=6, max_restores=2)


def default_anchor() -> datetime:
    """Today's start (UTC) by the process clock."""
    now = clock.now().astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def seed_demo(
    *,
    customers: int = 40,
    seed: int = 1,
    anchor: datetime | None = None,
    progress: bool = False,
    engine_seed: int = 1,
) -> DemoSummary:
    """Create the demo data set ("Demo Provider" with ``customers`` customers, and "Other
    Provider"), or write nothing when "Demo Provider" already exists.

    Tortoise must already be initialised on a migrated database.
    """
    if customers < 0:
        raise ValueError("customers must be zero or more")
    if anchor is None:
        anchor = default_anchor()
    elif anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    anchor = anchor.astimezone(UTC).replace(microsecond=0)

    async with in_transaction() as conn:
        if await ServiceProvider.filter(display_name=DEMO_PROVIDER).using_db(conn).exists():
            return DemoSummary(False, 0, 0, 0, 0, 0, 0, 0)
        generator = _Generator(
            conn, seed=seed, anchor=anchor, volume=volume_for(customers), engine_seed=engine_seed
        )
        return await generator.run(customers, progress=progress)


# --------------------------------------------------------------------------------------------
# helpers


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    total = sum(weight for _, weight in pairs)
    pick = rng.random() * total
    for value, weight in pairs:
        pick -= weight
        if pick < 0:
            return value
    return pairs[-1][0]


def _seconds(days: float) -> timedelta:
    return timedelta(seconds=round(days * 86400))


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + (day.month - 1) - months_back
    return date(index // 12, index % 12 + 1, 1)


def _months_between(earlier: datetime, later: datetime) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _slug(text: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", "", text.lower()).split()
    return "".join(words[:2])[:20] or "tenant"


def _fmt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_bytes(count: float) -> str:
    if count < 1024:
        return f"{round(count)} B"
    value = float(count)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def _transferred_message(nbytes: int, items: int, seconds: float) -> str:
    seconds = max(seconds, 1.0)
    return (
        f"Transferred: {_fmt_bytes(nbytes)} ({items} items) at {_fmt_bytes(nbytes / seconds)}/s "
        f"({round(items / seconds)} items/s)"
    )


def _problem_subject(rng: random.Random, service: str, kind: str, label: str) -> str:
    """What a problem on ``service`` names: the object being processed when it is of the
    service's kind (a user's mailbox or OneDrive, a site, a team), else one of the tenant's."""
    if service == "SHAREPOINT" and kind not in ("site", "group"):
        return rng.choice(names.SITES)
    if service == "TEAMS" and kind != "team":
        return rng.choice(names.TEAMS)
    if service in ("EXCHANGE", "ONEDRIVE") and kind not in ("user", "group"):
        return rng.choice(names.FIRST_NAMES) + " " + rng.choice(names.LAST_NAMES)
    return label


class _RowFactory:
    """Builds model instances for ``bulk_create`` without ``Model.__init__``.

    ``Model(**values)`` converts and validates every value and goes through ``__setattr__`` for
    each field, which is most of the time of a bulk load; ``bulk_create`` converts each value
    for the database anyway. This sets the instance state the way ``Model._init_from_db`` does,
    fills omitted fields with their defaults, and (once per model and process) checks that the
    result equals what ``Model(**values)`` builds, so a Tortoise upgrade that changes the
    instance layout fails loudly instead of writing wrong rows.
    """

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        self.model = model
        self.columns = frozenset(meta.fields_db_projection)
        self.defaults = [
            (name, meta.fields_map[name].default) for name in meta.fields_db_projection
        ]
        self.checked = False

    def __call__(self, values: dict[str, Any]) -> Model:
        if not values.keys() <= self.columns:
            raise TypeError(f"{self.model.__name__} has no {sorted(values.keys() - self.columns)}")
        row = self.model.__new__(self.model)
        state = row.__dict__
        state["_partial"] = False
        state["_saved_in_db"] = False
        state["_custom_generated_pk"] = False
        state["_await_when_save"] = {}
        for name, default in self.defaults:
            if name not in values:
                state[name] = copy.deepcopy(default() if callable(default) else default)
        state.update(values)
        if not self.checked:
            reference = self.model(**values)
            for name in self.columns:
                if getattr(reference, name) != state[name]:
                    raise AssertionError(f"{self.model.__name__}.{name} differs from Model()")
            self.checked = True
        return row


_FACTORIES: dict[type[Model], _RowFactory] = {}


def _build(model: type[Model], **values: Any) -> Any:
    factory = _FACTORIES.get(model)
    if factory is None:
        factory = _FACTORIES[model] = _RowFactory(model)
    return factory(values)


def _topics(rng: random.Random) -> list[str]:
    chosen = [t.value for t in NotificationTopic if rng.random() < 0.6]
    return chosen or [NotificationTopic.BACKUP_FAILED.value]


def _permissions(*granted: Permission) -> list[str]:
    wanted = {Permission.MONITORING_ACCESS, *granted}
    return [p.value for p in Permission if p in wanted]


@dataclass(frozen=True)
class _Account:
    """A demo provider and the users its data refers to."""

    provider: ServiceProvider
    admin: PortalUser  # the first user: Administrator, and admin user of two customers
    operators: list[PortalUser]  # may start policies: they run one by hand now and then


@dataclass
class _Person:
    first: str
    last: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class _Scope:
    """What one policy backs up: object counts and the names of what it processes."""

    users: int
    groups: int
    sites: int
    teams: int
    excluded: int
    services: list[str]
    processed_kind: str  # "user", "site", "team" or "group"
    processed_names: list[str]

    @property
    def objects(self) -> int:
        return self.users + self.groups + self.sites + self.teams

    def service_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        if M365Service.EXCHANGE.value in self.services:
            totals["EXCHANGE"] = self.users + self.groups
        if M365Service.ONEDRIVE_SHAREPOINT.value in self.services:
            totals["ONEDRIVE"] = self.users
            totals["SHAREPOINT"] = self.sites + self.groups
        if M365Service.TEAMS.value in self.services:
            totals["TEAMS"] = self.teams
        return {key: value for key, value in totals.items() if value > 0}


# --------------------------------------------------------------------------------------------
# the generator


class _Generator:
    def __init__(
        self,
        conn: BaseDBAsyncClient,
        *,
        seed: int,
        anchor: datetime,
        volume: Volume,
        engine_seed: int = 1,
    ) -> None:
        self.conn = conn
        self.seed = seed
        self.anchor = anchor
        self.day0 = anchor.replace(hour=0, minute=0, second=0)
        self.volume = volume
        self.pending: dict[type[Model], list[Model]] = {model: [] for model in _INSERT_ORDER}
        self.buffered = 0
        self.counts: Counter[type[Model]] = Counter()
        self.used_names: set[str] = set()
        self.used_domains: set[str] = set()
        self.used_ids: set[str] = set()  # external and Veeam account IDs
        self.classic_left = list(names.CLASSIC_COMPANIES)
        # (month, customer ID, name, licensed users) of the reported months, per provider
        # (month, customer ID, (name, start date, CRM ID), licensed users) per provider
        self.reported_licences: dict[uuid.UUID, list[tuple[date, uuid.UUID, Any, int]]] = {}
        self.engine_seed = engine_seed
        # (customer ID, directory, backed-up users, excluded users, last backup) per customer
        self.backups: list[tuple[uuid.UUID, TenantDirectory, int, int, datetime]] = []
        # (workload, rental, auto-reported, units, licensed units) per provider and month
        self.software: dict[tuple[uuid.UUID, date], list[tuple[Any, bool, bool, int, int]]] = {}

    def rng(self, *parts: object) -> random.Random:
        return random.Random("/".join(["vdc-demo", str(self.seed), *map(str, parts)]))

    # ---- writing ----------------------------------------------------------------------------

    def add(self, row: Model) -> None:
        self.pending[type(row)].append(row)
        self.buffered += 1

    async def flush(self) -> None:
        for model in _INSERT_ORDER:
            rows = self.pending[model]
            if rows:
                await model.bulk_create(rows, batch_size=BATCH_SIZE, using_db=self.conn)
                self.counts[model] += len(rows)
                self.pending[model] = []
        self.buffered = 0

    async def save(self, row: Model) -> Model:
        await row.save(using_db=self.conn)
        self.counts[type(row)] += 1
        return row

    # ---- the whole data set -----------------------------------------------------------------

    async def run(self, customers: int, *, progress: bool) -> DemoSummary:
        rng = self.rng("providers")
        demo = await self._account(
            rng,
            DEMO_PROVIDER,
            support=True,
            commit=Decimal("5000.00"),
            roles={
                "Administrator": _permissions(*Permission),
                "Monitoring": _permissions(),
                "Backup operator": _permissions(
                    Permission.BACKUP_MANAGEMENT, Permission.ADVANCED_BACKUP_MANAGEMENT
                ),
                "Customer manager": _permissions(Permission.CUSTOMER_MANAGEMENT),
            },
            users=(
                ("admin@demo.example", "Adele", "Vance", ("Administrator",)),
                ("monitor@demo.example", "Megan", "Bowen", ("Monitoring",)),
                ("operator@demo.example", "Grady", "Archie", ("Backup operator",)),
                ("accounts@demo.example", "Lidia", "Holloway", ("Customer manager",)),
                ("helpdesk@demo.example", "Lee", "Gu", ("Monitoring", "Customer manager")),
            ),
        )
        other = None
        other_exists = ServiceProvider.filter(display_name=OTHER_PROVIDER).using_db(self.conn)
        if not await other_exists.exists():
            other = await self._account(
                rng,
                OTHER_PROVIDER,
                support=False,
                commit=Decimal("500.00"),
                roles={"Administrator": _permissions(*Permission), "Monitoring": _permissions()},
                users=(
                    ("admin@other.example", "Diego", "Siciliani", ("Administrator",)),
                    ("support@other.example", "Patti", "Fernandez", ("Monitoring",)),
                ),
            )
        plan = [(demo, "demo", customers)]
        if other is not None:
            plan.append((other, "other", OTHER_PROVIDER_CUSTOMERS))

        total = sum(count for _, _, count in plan)
        with tqdm(
            total=total,
            desc="demo customers",
            unit="customer",
            disable=not progress,
            file=sys.stderr,
        ) as bar:
            for account, tag, count in plan:
                for index in range(count):
                    self._customer(account, tag, index)
                    bar.update(1)
                    if self.buffered >= FLUSH_ROWS:
                        await self.flush()
                self._software_usage(account.provider, tag)
                self._usage_reports(account.provider, tag)
                self._webhooks(account.provider, tag)
        await self._service_status()
        await self.flush()
        await self._derive_licences()
        return DemoSummary(
            created=True,
            providers=self.counts[ServiceProvider],
            users=self.counts[PortalUser],
            customers=self.counts[Customer],
            policies=self.counts[BackupPolicy],
            sessions=self.counts[BackupSession],
            log_records=self.counts[SessionLogRecord],
            licensed_users=self.counts[LicensedUser],
        )

    async def _derive_licences(self) -> None:
        """Licensed users, protected objects and the customers' figures, through the same
        licensing code a session's end runs: each customer's last backup processed its
        backed-up users (the excluded ones as excluded) and its groups, sites and teams."""
        from vdc_graph import licensing

        for customer_id, directory, backed_up, excluded, at in self.backups:
            users = directory.users
            processed = [
                licensing.Processed(u, "success", u.size_bytes, u.item_count)
                for u in users[:backed_up]
            ]
            processed += [
                licensing.Processed(u, "excluded") for u in users[backed_up : backed_up + excluded]
            ]
            processed += [
                licensing.Processed(o, "success", o.size_bytes, o.item_count)
                for o in directory.groups + directory.sites + directory.teams
            ]
            await licensing.record_backups(customer_id, processed, at)
            self.counts[LicensedUser] += backed_up
        await licensing.refresh_customers(
            self.engine_seed, [c for c, *_ in self.backups], now=self.anchor
        )

    # ---- providers, roles, users ------------------------------------------------------------

    async def _account(
        self,
        rng: random.Random,
        name: str,
        *,
        support: bool,
        commit: Decimal,
        roles: dict[str, list[str]],
        users: tuple[tuple[str, str, str, tuple[str, ...]], ...],
    ) -> _Account:
        created = self.anchor - _seconds(rng.uniform(1500, 1600))  # before its customers
        slug = _slug(name)
        provider = ServiceProvider(
            id=_uuid(rng),
            created_at=created,
            display_name=name,
            pro_partner_id=f"PRA-{rng.randrange(1_000_000, 10_000_000)}",
            entra_tenant_id=str(_uuid(rng)),
            rental_agreement_number=f"RA-{created.year}-{rng.randrange(100_000, 1_000_000)}",
            minimum_commit_points=commit,
            usage_reporting_administrator=f"billing@{slug}.example",
            aggregator_account=f"{name} aggregator account",
            notification_language="en",
            allow_customer_admin_notifications=support,
            support_button_enabled=support,
            support_link=f"https://support.{slug}.example/m365-backup" if support else "",
            support_text=f"Contact {name} support" if support else "",
        )
        while (
            await ServiceProvider.filter(pro_partner_id=provider.pro_partner_id)
            .using_db(self.conn)
            .exists()
        ):  # only when an unrelated provider happens to hold the same ID
            provider.pro_partner_id = f"PRA-{rng.randrange(1_000_000, 10_000_000)}"
        await self.save(provider)

        role_rows: dict[str, Role] = {}
        user_rows: list[PortalUser] = []
        operators: list[PortalUser] = []
        for role_name, permissions in roles.items():
            role_rows[role_name] = await self.save(
                Role(
                    id=_uuid(rng),
                    created_at=created,
                    provider_id=provider.id,
                    name=role_name,
                    name_key=role_name.lower(),
                    permissions=permissions,
                    built_in=role_name == "Administrator",
                )
            )
        for offset, (email, first, last, user_roles) in enumerate(users):
            user = await self.save(
                PortalUser(
                    id=_uuid(rng),
                    created_at=created + timedelta(days=offset * 3, hours=2),
                    provider_id=provider.id,
                    email=email,
                    email_key=email.lower(),
                    first_name=first,
                    last_name=last,
                )
            )
            for role_name in user_roles:  # one at a time: a stable insertion order
                await user.roles.add(role_rows[role_name], using_db=self.conn)
            user_rows.append(user)
            if any(Permission.BACKUP_MANAGEMENT in roles[r] for r in user_roles):
                operators.append(user)

        contacts = [
            (ContactKind.EMAIL, f"backup-ops@{slug}.example", _topics(rng)),
            (
                ContactKind.TEAMS_WEBHOOK,
                self._teams_webhook(rng, slug),
                [t.value for t in NotificationTopic],
            ),
        ]
        for kind, address, topics in contacts if support else contacts[:1]:
            self.add(
                _build(
                    NotificationContact,
                    id=_uuid(rng),
                    created_at=created + timedelta(days=1),
                    provider_id=provider.id,
                    customer_id=None,
                    kind=kind,
                    address=address,
                    topics=topics,
                )
            )
        return _Account(provider, user_rows[0], operators)

    @staticmethod
    def _teams_webhook(rng: random.Random, slug: str) -> str:
        return (
            f"https://{slug}.webhook.office.example/webhookb2/{_uuid(rng)}@{_uuid(rng)}"
            f"/IncomingWebhook/{rng.getrandbits(128):032x}/{_uuid(rng)}"
        )

    # ---- names ------------------------------------------------------------------------------

    def _company_name(self, rng: random.Random, region: Region) -> str:
        if self.classic_left:
            name = self.classic_left.pop(rng.randrange(len(self.classic_left)))
            self.used_names.add(name)
            return name
        for _attempt in range(25):
            name = (
                f"{rng.choice(names.NAME_STEMS)} {rng.choice(names.INDUSTRIES)} "
                f"{rng.choice(names.LEGAL_SUFFIXES[region])}"
            )
            if name not in self.used_names:
                break
        base, number = name, 2
        while name in self.used_names:
            name = f"{base} ({number})"
            number += 1
        self.used_names.add(name)
        return name

    def _domain(self, rng: random.Random, company: str) -> str:
        slug = _slug(company)
        while True:
            domain = f"{slug}{rng.randrange(100, 1000)}.onmicrosoft.example"
            if domain not in self.used_domains:
                self.used_domains.add(domain)
                return domain

    @staticmethod
    def _people(rng: random.Random, domain: str, count: int) -> list[_Person]:
        people: list[_Person] = []
        emails: set[str] = set()
        for _ in range(count):
            first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
            local = f"{first}.{last}".lower()
            email, number = f"{local}@{domain}", 2
            while email in emails:
                email = f"{local}{number}@{domain}"
                number += 1
            emails.add(email)
            people.append(_Person(first, last, email))
        return people

    def _external_id(self, rng: random.Random, source: SourceType) -> str:
        """The marketplace's subscription ID, unique per provider (and here, overall)."""
        while True:
            if source is SourceType.MICROSOFT_MARKETPLACE:
                value = str(_uuid(rng))
            elif source is SourceType.CLOUDBLUE:
                value = f"CB-{rng.randrange(1_000_000, 10_000_000)}"
            elif source is SourceType.DIRECT:
                value = f"DIRECT-{rng.randrange(100_000, 1_000_000)}"
            else:
                value = f"PULSE-{rng.getrandbits(40):010X}"
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def _veeam_account_id(self, rng: random.Random) -> str:
        while True:
            value = f"VAC-{rng.randrange(10_000_000, 100_000_000)}"
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    # ---- one customer -----------------------------------------------------------------------

    def _customer(self, account: _Account, tag: str, index: int) -> None:
        rng = self.rng(tag, "customer", index)
        provider, provider_admin = account.provider, account.admin
        contract = (
            _FIRST_CONTRACTS[index]
            if index < len(_FIRST_CONTRACTS)
            else _weighted(rng, _CONTRACT_WEIGHTS)
        )
        source = (
            _FIRST_SOURCES[index]
            if index < len(_FIRST_SOURCES)
            else _weighted(rng, _SOURCE_WEIGHTS)
        )
        pending = contract is ContractType.PENDING
        region: Region = _weighted(rng, _REGION_WEIGHTS)
        company = self._company_name(rng, region)
        domain = self._domain(rng, company)
        # The provider's admin may switch into its first two active customers.
        provider_admin_is_customer_admin = index in (0, 2)

        customer_id = _uuid(rng)
        if pending:
            created = self.anchor - _seconds(rng.uniform(0.2, 45))
            activation = None
        else:
            if contract is ContractType.TRIAL:
                age = rng.uniform(8, 28)
            elif contract in _INACTIVE:
                age = rng.uniform(200, 1400)
            elif index == 0 or rng.random() < 0.7:
                age = rng.uniform(365, 1400)
            else:
                age = rng.uniform(15, 365)
            activation = self.anchor - _seconds(age)
            created = activation - _seconds(rng.uniform(0.5, 20))

        flex = express = premium = ""
        if not pending:
            flex = f"FLX-{rng.getrandbits(48):012X}"
            if rng.random() < 0.08:
                express = f"EXP-{rng.getrandbits(48):012X}"
            if rng.random() < 0.04:
                premium = f"PRM-{rng.getrandbits(48):012X}"

        # tenant size
        if pending:
            total = excluded = backed_up = 0
        else:
            r = rng.random()
            if r < 0.55:
                total = rng.randint(5, 50)
            elif r < 0.85:
                total = rng.randint(51, 300)
            elif r < 0.97:
                total = rng.randint(301, 1500)
            else:
                total = rng.randint(1501, MAX_TENANT_USERS)
            total = min(total, self.volume.licensed_user_rows)  # large data sets: small tenants
            unprotected = round(total * rng.uniform(0, 0.08))  # not in any policy yet
            excluded = round(total * rng.uniform(0, 0.04))  # shared mailboxes, test users
            backed_up = max(1, total - unprotected - excluded)

        history = self._history(rng, backed_up, activation) if not pending else []

        services = list(names.ALL_SERVICES)
        if not pending and rng.random() < 0.15:
            services = [s for s in names.ALL_SERVICES if rng.random() < 0.6] or [
                M365Service.EXCHANGE.value
            ]
        retention = rng.choice(_RETENTION_CHOICES)
        has_ip_ranges = not pending and not provider_admin_is_customer_admin and rng.random() < 0.12
        language = rng.choice(names.LANGUAGES_BY_REGION[region])
        customer = _build(
            Customer,
            id=customer_id,
            created_at=created,
            provider_id=provider.id,
            display_name=company,
            m365_account=domain if not pending or rng.random() < 0.7 else "",
            microsoft_tenant_id=None if pending else str(_uuid(rng)),
            external_id=self._external_id(rng, source),
            former_external_id=None,
            veeam_account_id=self._veeam_account_id(rng),
            flex_subscription_id=flex or None,
            express_subscription_id=express or None,
            premium_subscription_id=premium or None,
            contract_type=contract,
            license_model=LicenseModel.FIXED if rng.random() < 0.2 else LicenseModel.VARIABLE,
            source_type=source,
            # Derived from the backups' results by the licensing rules (``_derive_licences``).
            licenses_used=0,
            activation_date=activation,
            storage_consumed_gb=0,
            backed_up_accounts=0,
            total_active_accounts=0,
            user_change=0,
            deleted_at=None,
            region=None if pending else region,
            enable_self_service=not pending and rng.random() < 0.4,
            allow_create_delete_policy=not pending and rng.random() < 0.2,
            allow_edit_trigger_policy=not pending and rng.random() < 0.35,
            auto_create_policies=rng.random() < 0.8,
            allow_multiple_regions=not pending and rng.random() < 0.1,
            enable_email_previews=not pending and rng.random() < 0.5,
            restrict_access_to_ip_ranges=has_ip_ranges and rng.random() < 0.5,
            retention_years=None if pending else retention,
            protected_services=[] if pending else services,
            allow_system_notifications=rng.random() < 0.85,
            notification_language=language,
        )
        self.add(customer)

        for plan, subscription_id in (
            (SubscriptionPlan.FLEX, flex),
            (SubscriptionPlan.EXPRESS, express),
            (SubscriptionPlan.PREMIUM, premium),
        ):
            if subscription_id:
                self.add(
                    _build(
                        Subscription,
                        id=_uuid(rng),
                        created_at=activation or created,
                        customer_id=customer_id,
                        plan=plan,
                        subscription_id=subscription_id,
                    )
                )

        # admin users of the customer (they may exist while it is pending)
        admins = self._people(rng, domain, rng.choice((1, 1, 2)))
        for person in admins:
            self.add(
                _build(
                    CustomerAdminUser,
                    id=_uuid(rng),
                    created_at=created + timedelta(minutes=rng.randint(5, 600)),
                    customer_id=customer_id,
                    email=person.email,
                    email_key=person.email.lower(),
                    first_name=person.first,
                    last_name=person.last,
                    send_welcome_email=rng.random() < 0.8,
                )
            )
        if provider_admin_is_customer_admin and not pending:
            self.add(
                _build(
                    CustomerAdminUser,
                    id=_uuid(rng),
                    created_at=created + timedelta(hours=1),
                    customer_id=customer_id,
                    email=provider_admin.email,
                    email_key=provider_admin.email_key,
                    first_name=provider_admin.first_name,
                    last_name=provider_admin.last_name,
                    send_welcome_email=False,
                )
            )

        self_service = rng.random() < (0.45 if pending else 0.25)
        self._onboarding(rng, customer, region, admins[0], provider_admin, self_service, services)
        if self_service:
            self._invitation(rng, customer, admins[0])
        if pending:
            return

        if has_ip_ranges:
            self._ip_ranges(rng, customer_id, created)
        self._contacts(rng, provider.id, customer_id, domain, activation)

        # The tenant's directory, as the identity platform lists it; the sessions name its users.
        tenant_id = customer.microsoft_tenant_id
        self.add(
            _build(
                SimulatedTenant,
                id=uuid.uuid5(customer_id, "tenant"),
                created_at=activation - timedelta(minutes=20),
                tenant_id=tenant_id,
                user_count=total,
            )
        )
        from vdc_graph.identity import build_directory  # the identity package uses names

        directory = build_directory(self.engine_seed, tenant_id, domain, total)
        people = [
            _Person(*user.name.split(" ", 1), user.external_id)
            for user in directory.users[: min(total, max(self.volume.licensed_user_rows, 12))]
        ]
        last_backup = self._policies(
            rng, account, customer, people, total, backed_up, excluded, services
        )
        if last_backup is not None:
            self.backups.append((customer_id, directory, backed_up, excluded, last_backup))
        self._history_rows(rng, provider.id, customer, history)
        self._restores(rng, provider.id, customer_id, admins + people[:5], activation)

    def _history(self, rng: random.Random, current: int, activation: datetime | None) -> list[int]:
        """Licensed users per month, this month first, zero before the activation month."""
        assert activation is not None
        active_months = _months_between(activation, self.anchor)  # 0: activated this month
        values = [current]
        for month in range(1, HISTORY_MONTHS):
            if month > active_months:
                values.append(0)
                continue
            growth = rng.gauss(0.02, 0.05)
            previous = round(values[-1] / (1 + growth))
            values.append(max(1, previous))
        return values

    def _history_rows(
        self,
        rng: random.Random,
        provider_id: uuid.UUID,
        customer: Customer,
        history: list[int],
    ) -> None:
        customer_id = customer.id
        assert customer.activation_date is not None
        line = (customer.display_name, customer.activation_date.date(), customer.veeam_account_id)
        reported = self.reported_licences.setdefault(provider_id, [])
        for back, licensed in enumerate(history):
            if back == 0:
                continue  # this month's figure follows from the backups (``_derive_licences``)
            month = _month_start(self.anchor.date(), back)
            if 1 <= back <= REPORT_MONTHS:
                reported.append((month, customer_id, line, licensed))
            recorded = datetime(month.year, month.month, month.day, 2, tzinfo=UTC)
            self.add(
                _build(
                    LicensedUsersMonth,
                    id=_uuid(rng),
                    created_at=min(recorded, self.anchor),
                    provider_id=provider_id,
                    customer_id=customer_id,
                    month=month,
                    licensed_users=licensed,
                )
            )

    def _onboarding(
        self,
        rng: random.Random,
        customer: Customer,
        region: Region,
        admin: _Person,
        provider_admin: PortalUser,
        self_service: bool,
        services: list[str],
    ) -> None:
        started = customer.created_at + timedelta(hours=rng.randint(1, 48))
        if customer.contract_type is ContractType.PENDING:
            step = rng.choice(
                (
                    OnboardingStep.LEGAL_AGREEMENT,
                    OnboardingStep.LEGAL_AGREEMENT,
                    OnboardingStep.CONNECT_TENANT,
                    OnboardingStep.AWAITING_DEVICE_LOGIN,
                )
            )
            started = min(started, self.anchor - timedelta(minutes=30))
            accepted = step is not OnboardingStep.LEGAL_AGREEMENT
            issued = step is OnboardingStep.AWAITING_DEVICE_LOGIN
            retention = rng.choice(_RETENTION_CHOICES)
            self.add(
                _build(
                    Onboarding,
                    id=_uuid(rng),
                    created_at=customer.created_at,
                    customer_id=customer.id,
                    step=step,
                    legal_accepted_by=provider_admin.email if accepted else None,
                    legal_accepted_at=started if accepted else None,
                    legal_agreement_version=LEGAL_AGREEMENT.version if accepted else None,
                    region=region if issued else None,
                    retention_years=retention if issued else None,
                    retention_unlimited=issued and retention is None,
                    services=list(names.ALL_SERVICES) if issued else [],
                    custom_app_id=None,
                    custom_app_credential_ref=None,
                    device_code=f"DAQABAAEAAAD{rng.getrandbits(256):064x}" if issued else None,
                    user_code=(
                        "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
                        if issued
                        else None
                    ),
                    verification_url="https://microsoft.example/devicelogin" if issued else None,
                    # an expired code: the wizard offers to renew it
                    device_code_expires_at=started + timedelta(minutes=15) if issued else None,
                    poll_interval_seconds=5,
                    tenant_connected_at=None,
                    finished_at=None,
                    applied_recommended_policies=None,
                )
            )
            return
        activation = customer.activation_date
        assert activation is not None
        self.add(
            _build(
                Onboarding,
                id=_uuid(rng),
                created_at=customer.created_at,
                customer_id=customer.id,
                step=OnboardingStep.FINISHED,
                legal_accepted_by=admin.email if self_service else provider_admin.email,
                legal_accepted_at=activation - timedelta(minutes=rng.randint(20, 120)),
                legal_agreement_version=LEGAL_AGREEMENT.version,
                region=customer.region,
                retention_years=customer.retention_years,
                retention_unlimited=customer.retention_years is None,
                services=services,
                custom_app_id=str(_uuid(rng)) if rng.random() < 0.1 else None,
                custom_app_credential_ref=None,
                device_code=None,
                user_code=None,
                verification_url=None,
                device_code_expires_at=None,
                poll_interval_seconds=5,
                tenant_connected_at=activation - timedelta(minutes=rng.randint(2, 15)),
                finished_at=activation,
                applied_recommended_policies=customer.auto_create_policies,
            )
        )

    def _invitation(self, rng: random.Random, customer: Customer, admin: _Person) -> None:
        if customer.activation_date is not None:
            sent = customer.activation_date - _seconds(rng.uniform(0.1, 3))
            accepted: datetime | None = customer.activation_date - timedelta(minutes=30)
        else:
            sent = min(customer.created_at + _seconds(rng.uniform(0.05, 2)), self.anchor)
            accepted = None
        self.add(
            _build(
                Invitation,
                id=_uuid(rng),
                created_at=sent,
                customer_id=customer.id,
                email=admin.email,
                email_key=admin.email.lower(),
                sent_at=sent,
                send_count=rng.choice((1, 1, 2)),
                token_hash=hashlib.sha256(rng.getrandbits(256).to_bytes(32, "big")).hexdigest(),
                expires_at=sent + timedelta(days=7),
                accepted_at=accepted,
            )
        )

    def _ip_ranges(self, rng: random.Random, customer_id: uuid.UUID, created: datetime) -> None:
        seen: set[tuple[str, str]] = set()
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.75:
                net = rng.choice(("203.0.113", "198.51.100", "192.0.2"))
                low = rng.randrange(1, 200)
                pair = (f"{net}.{low}", f"{net}.{low + rng.randrange(0, 50)}")
            else:
                prefix = f"2001:db8:{rng.randrange(0x10000):x}"
                pair = (f"{prefix}::1", f"{prefix}::ffff")
            if pair in seen:
                continue
            seen.add(pair)
            self.add(
                _build(
                    IpRange,
                    id=_uuid(rng),
                    created_at=created + timedelta(days=rng.randint(1, 10)),
                    customer_id=customer_id,
                    start_address=pair[0],
                    end_address=pair[1],
                    added_by=AddedBy.PROVIDER if rng.random() < 0.6 else AddedBy.CUSTOMER,
                )
            )

    def _contacts(
        self,
        rng: random.Random,
        provider_id: uuid.UUID,
        customer_id: uuid.UUID,
        domain: str,
        activation: datetime | None,
    ) -> None:
        assert activation is not None
        if rng.random() < 0.35:
            self.add(
                _build(
                    NotificationContact,
                    id=_uuid(rng),
                    created_at=activation + timedelta(hours=1),
                    provider_id=provider_id,
                    customer_id=customer_id,
                    kind=ContactKind.EMAIL,
                    address=f"m365-backup@{domain}",
                    topics=_topics(rng),
                )
            )
        if rng.random() < 0.15:
            self.add(
                _build(
                    NotificationContact,
                    id=_uuid(rng),
                    created_at=activation + timedelta(hours=2),
                    provider_id=provider_id,
                    customer_id=customer_id,
                    kind=ContactKind.TEAMS_WEBHOOK,
                    address=self._teams_webhook(rng, domain.split(".")[0]),
                    topics=_topics(rng),
                )
            )

    # ---- policies and sessions --------------------------------------------------------------

    def _policies(
        self,
        rng: random.Random,
        account: _Account,
        customer: Customer,
        people: list[_Person],
        total: int,
        backed_up: int,
        excluded: int,
        services: list[str],
    ) -> datetime | None:
        """Create the customer's policies and their sessions; returns the end of the last
        successful (or warning) session of the first policy, or of any policy failing that."""
        activation = customer.activation_date
        assert activation is not None
        # "Entire organization" (first) protects every service; others need one of theirs.
        templates = [t for t in names.POLICY_TEMPLATES if set(t[3]) & set(services)]
        count = _weighted(rng, ((1, 55), (2, 30), (3, 15)))
        chosen = [templates[0]] if rng.random() < 0.85 else []
        rest = [t for t in templates if t not in chosen]
        rng.shuffle(rest)
        chosen += rest[: count - len(chosen)]

        inactive = customer.contract_type in _INACTIVE
        # A suspended or expired customer's policies stopped running some days ago.
        stop_at = self.day0 - timedelta(days=rng.randint(1, 12)) if inactive else None
        disconnected_days = rng.randint(1, 4) if not inactive and rng.random() < 0.03 else 0
        flaky = rng.random() < 0.1
        fail_rate, warn_rate = (0.15, 0.25) if flaky else (0.03, 0.09)
        age_days = (self.anchor - activation).total_seconds() / 86400
        last_backup: datetime | None = None

        for position, (name, backup_type, object_type, template_services) in enumerate(chosen):
            policy_services = [s for s in template_services if s in services]
            if position == 0:
                policy_created = activation + timedelta(minutes=rng.randint(5, 30))
            else:
                policy_created = activation + _seconds(rng.uniform(0.1, max(0.2, age_days - 0.1)))
            scope, selected, excluded_objects = self._scope(
                rng, backup_type, object_type, policy_services, people, total, backed_up, excluded
            )
            enabled = not inactive and rng.random() > 0.04
            policy_stop = stop_at
            if not enabled and not inactive:
                policy_stop = self.day0 - timedelta(days=rng.randint(1, 20))
            minute_of_day = rng.randrange(0, 23 * 60)
            policy = _build(
                BackupPolicy,
                id=_uuid(rng),
                created_at=policy_created,
                provider_id=account.provider.id,
                customer_id=customer.id,
                name=name,
                name_key=name.lower(),
                backup_type=backup_type,
                enabled=enabled,
                selected_objects=selected,
                excluded_objects=excluded_objects,
                services=policy_services,
                schedule_interval_hours=24,
                last_run=None,
                last_status=PolicyStatus.NEVER_RUN,
                next_run=None,
                average_processing_seconds=None,
            )
            durations: list[float] = []
            last_session: BackupSession | None = None
            for days_back in range(self.volume.session_days, 0, -1):
                scheduled = self.day0 - timedelta(days=days_back) + timedelta(minutes=minute_of_day)
                if scheduled <= policy_created or (policy_stop and scheduled >= policy_stop):
                    continue
                if disconnected_days and days_back <= disconnected_days:
                    status = SessionStatus.DISCONNECTED
                else:
                    r = rng.random()
                    status = (
                        SessionStatus.FAILED
                        if r < fail_rate
                        else SessionStatus.WARNING
                        if r < fail_rate + warn_rate
                        else SessionStatus.SUCCESS
                    )
                session = self._session(rng, account, customer, policy, scope, scheduled, status)
                last_session = session
                if status is not SessionStatus.DISCONNECTED:
                    assert session.started_at is not None and session.ended_at is not None
                    durations.append((session.ended_at - session.started_at).total_seconds())
                    if status is not SessionStatus.FAILED and (
                        position == 0 or last_backup is None
                    ):
                        last_backup = session.ended_at
            if last_session is not None:
                policy.last_run = last_session.started_at
                policy.last_status = PolicyStatus(last_session.status.value)
            if durations:
                policy.average_processing_seconds = round(sum(durations) / len(durations), 1)
            if enabled:
                next_run = self.day0 + timedelta(minutes=minute_of_day)
                policy.next_run = next_run if next_run > self.anchor else next_run + timedelta(1)
            self.add(policy)
        return last_backup

    def _scope(
        self,
        rng: random.Random,
        backup_type: BackupType,
        object_type: BackupObjectType | None,
        services: list[str],
        people: list[_Person],
        total: int,
        backed_up: int,
        excluded: int,
    ) -> tuple[_Scope, list[dict[str, str]], list[dict[str, str]]]:
        def obj(kind: BackupObjectType, name: str) -> dict[str, str]:
            return {"type": kind.value, "externalId": str(_uuid(rng)), "name": name}

        if backup_type is BackupType.ENTIRE_ORGANIZATION:
            excluded_names = list(names.SHARED_MAILBOXES[: min(excluded, 4)])
            excluded_objects = [obj(BackupObjectType.USER, name) for name in excluded_names]
            odsp = M365Service.ONEDRIVE_SHAREPOINT.value in services
            scope = _Scope(
                users=backed_up,
                groups=max(1, total // 12),
                sites=max(1, total // 8) if odsp else 0,
                teams=max(1, total // 15) if M365Service.TEAMS.value in services else 0,
                excluded=len(excluded_objects),
                services=services,
                processed_kind="user",
                processed_names=[p.name for p in people[: self.volume.processing_lines]],
            )
            return scope, [], excluded_objects

        assert object_type is not None
        if object_type is BackupObjectType.USER:
            chosen = rng.sample(people, min(len(people), rng.randint(3, 12)))
            labels = [p.name for p in chosen]
        elif object_type is BackupObjectType.SITE:
            labels = rng.sample(names.SITES, rng.randint(2, 5))
        elif object_type is BackupObjectType.TEAM:
            labels = rng.sample(names.TEAMS, rng.randint(2, 4))
        else:
            labels = ["Finance", *rng.sample(names.GROUPS[1:], rng.randint(0, 2))]
        selected = [obj(object_type, label) for label in labels]
        excluded_objects = []
        if object_type is BackupObjectType.GROUP and rng.random() < 0.5:
            excluded_objects = [obj(BackupObjectType.USER, rng.choice(people).name)]
        counts = {kind: 0 for kind in BackupObjectType}
        counts[object_type] = len(selected)
        scope = _Scope(
            users=counts[BackupObjectType.USER],
            groups=counts[BackupObjectType.GROUP],
            sites=counts[BackupObjectType.SITE],
            teams=counts[BackupObjectType.TEAM],
            excluded=len(excluded_objects),
            services=services,
            processed_kind=object_type.value.lower(),
            processed_names=labels[: self.volume.processing_lines],
        )
        return scope, selected, excluded_objects

    def _session(
        self,
        rng: random.Random,
        account: _Account,
        customer: Customer,
        policy: BackupPolicy,
        scope: _Scope,
        scheduled: datetime,
        status: SessionStatus,
    ) -> BackupSession:
        started = scheduled + timedelta(seconds=rng.randint(1, 40))
        starter = rng.choice(account.operators) if rng.random() < 0.03 else None
        session_id = _uuid(rng)
        messages: list[tuple[LogStatus, str]] = [(LogStatus.INFO, "")]  # start: filled below
        counts: dict[str, dict[str, int]] = {}

        if status is SessionStatus.DISCONNECTED:
            duration = rng.randint(5, 40)
            processed = nbytes = items = 0
            messages.append((LogStatus.FAILED, names.DISCONNECTED_MESSAGE))
            messages.append((LogStatus.INFO, _transferred_message(0, 0, duration)))
            progress = 0
            for service in scope.service_totals():
                counts[service] = {"total": 0, "success": 0, "warning": 0, "error": 0}
        else:
            objects = scope.objects
            messages.append((LogStatus.INFO, f"Found {objects + scope.excluded} objects"))
            messages.append((LogStatus.INFO, f"Found {scope.excluded} excluded objects"))
            totals = scope.service_totals()
            problem_service = rng.choice(list(totals)) if totals else ""

            problems = 0
            if status is not SessionStatus.SUCCESS:
                problems = max(1, min(totals.get(problem_service, 0), rng.randint(1, 4)))
            for service, count in totals.items():
                bad = min(problems, count) if service == problem_service else 0
                counts[service] = {
                    "total": count,
                    "success": count - bad,
                    "warning": bad if status is SessionStatus.WARNING else 0,
                    "error": bad if status is SessionStatus.FAILED else 0,
                }
            failed_objects = problems if status is SessionStatus.FAILED else 0
            processed = max(0, objects - failed_objects)
            problem_at = rng.randrange(len(scope.processed_names) or 1)
            problem = ""
            if status is not SessionStatus.SUCCESS:
                pool = (
                    names.WARNING_MESSAGES
                    if status is SessionStatus.WARNING
                    else names.FAILURE_MESSAGES
                )
                problem = rng.choice(pool[problem_service or "EXCHANGE"])
            for position, label in enumerate(scope.processed_names):
                messages.append((LogStatus.INFO, f"Processing {scope.processed_kind}: {label}"))
                if problem and position == problem_at:
                    subject = _problem_subject(rng, problem_service, scope.processed_kind, label)
                    messages.append((LogStatus(status.value), problem.format(name=subject)))
            if problem and not scope.processed_names:
                messages.append((LogStatus(status.value), problem.format(name=policy.name)))
            duration = min(3300, round(30 + processed * rng.uniform(0.4, 1.6)))
            nbytes = round(processed * rng.lognormvariate(14.0, 1.0))
            items = processed * rng.randint(2, 40)
            messages.append((LogStatus.INFO, _transferred_message(nbytes, items, duration)))
            progress = 100

        ended = started + timedelta(seconds=duration)
        final = {
            SessionStatus.SUCCESS: LogStatus.SUCCESS,
            SessionStatus.WARNING: LogStatus.WARNING,
        }.get(status, LogStatus.FAILED)
        messages[0] = (LogStatus.INFO, f"Job started at: {_fmt_time(started)}")
        messages.append((final, f"Job finished at: {_fmt_time(ended)}"))

        session = _build(
            BackupSession,
            id=session_id,
            created_at=scheduled,
            provider_id=account.provider.id,
            customer_id=customer.id,
            policy_id=policy.id,
            policy_name=policy.name,
            status=status,
            started_at=started,
            ended_at=ended,
            progress=progress,
            processed_objects=processed,
            transferred_bytes=nbytes,
            transferred_items=items,
            trigger=SessionTrigger.SCHEDULE if starter is None else SessionTrigger.USER,
            started_by_id=None if starter is None else starter.id,
            started_by_label=SCHEDULE_STARTER if starter is None else starter.email,
            retry_count=rng.randint(1, 3) if status is SessionStatus.FAILED else 0,
            service_counts=counts,
            stop_requested=False,
            last_seq=len(messages),
        )
        self.add(session)
        last = len(messages) - 1
        for seq, (log_status, message) in enumerate(messages, start=1):
            at = started + timedelta(seconds=duration * (seq - 1) // max(1, last))
            self.add(
                _build(
                    SessionLogRecord,
                    id=_uuid(rng),
                    created_at=at,
                    session_id=session_id,
                    seq=seq,
                    at=at,
                    status=log_status,
                    message=message,
                )
            )
        return session

    # ---- licensed users, restores -----------------------------------------------------------

    def _restores(
        self,
        rng: random.Random,
        provider_id: uuid.UUID,
        customer_id: uuid.UUID,
        requesters: list[_Person],
        activation: datetime | None,
    ) -> None:
        assert activation is not None
        for _ in range(rng.randint(0, self.volume.max_restores)):
            requested = self.anchor - _seconds(rng.uniform(0.05, 90))
            if requested <= activation:
                continue
            kind = rng.choice(names.RESTORE_TYPES)
            items = 1 if kind in ("EXCHANGE_MAILBOX", "SHAREPOINT_SITE") else rng.randint(1, 400)
            self.add(
                _build(
                    Restore,
                    id=_uuid(rng),
                    created_at=requested,
                    provider_id=provider_id,
                    customer_id=customer_id,
                    requested_at=requested,
                    requested_by=rng.choice(requesters).email,
                    restore_type=kind,
                    item_count=items,
                    status=_weighted(
                        rng,
                        (
                            (RestoreStatus.SUCCESS, 85),
                            (RestoreStatus.WARNING, 10),
                            (RestoreStatus.FAILED, 5),
                        ),
                    ),
                )
            )

    # ---- provider-wide and platform rows ----------------------------------------------------

    def _software_usage(self, provider: ServiceProvider, tag: str) -> None:
        rng = self.rng(tag, "software")
        ranges = {
            SoftwareWorkload.CLOUD_CONNECT_BACKUP_VM: (40, 120),
            SoftwareWorkload.CLOUD_CONNECT_REPLICA: (5, 20),
            SoftwareWorkload.CLOUD_CONNECT_WORKSTATION: (20, 80),
            SoftwareWorkload.CLOUD_CONNECT_SERVER: (10, 40),
            SoftwareWorkload.PUBLIC_CLOUD_VM: (5, 30),
            SoftwareWorkload.PUBLIC_CLOUD_DATABASE: (1, 10),
            SoftwareWorkload.PUBLIC_CLOUD_FILE_SHARE: (1, 5),
        }
        workloads = list(ranges) if tag == "demo" else list(ranges)[:2]
        # The reported months and the one before them (a report shows the previous month).
        for back in range(REPORT_MONTHS + 2):
            month = _month_start(self.anchor.date(), back)
            recorded = datetime(month.year, month.month, month.day, 1, tzinfo=UTC)
            for workload in workloads:
                low, high = ranges[workload]
                units = rng.randint(low, high)
                rows = [(units, False)]
                if workload is SoftwareWorkload.CLOUD_CONNECT_BACKUP_VM:
                    rows.append((rng.randint(3, 15), True))  # tenants with a rental licence
                for count, rental in rows:
                    auto_reported = rng.random() < 0.8
                    licensed = -(-count // 10) * 10
                    self.software.setdefault((provider.id, month), []).append(
                        (workload, rental, auto_reported, count, licensed)
                    )
                    self.add(
                        _build(
                            SoftwareUsage,
                            id=_uuid(rng),
                            created_at=min(recorded, self.anchor),
                            provider_id=provider.id,
                            month=month,
                            workload=workload,
                            units=count,
                            licensed_units=licensed,
                            tenant_has_rental_license=rental,
                            auto_reported=auto_reported,
                        )
                    )

    def _usage_reports(self, provider: ServiceProvider, tag: str) -> None:
        """The past months' reports, built from the same figures as the server builds them:
        the last month awaits review, the one before was submitted, older ones are confirmed
        (so the provider is not suspended)."""
        rng = self.rng(tag, "usage-reports")
        by_month: dict[date, list[tuple[uuid.UUID, Any, int]]] = {}
        for month, customer_id, name, licensed in self.reported_licences.pop(provider.id, []):
            by_month.setdefault(month, []).append((customer_id, name, licensed))
        for back in range(REPORT_MONTHS, 0, -1):
            month = _month_start(self.anchor.date(), back)
            after = next_month(month)
            generated = min(datetime(after.year, after.month, 1, 1, tzinfo=UTC), self.anchor)
            report_id = _uuid(rng)
            status, submitted, confirmed = UsageReportStatus.PENDING_REVIEW, None, None
            if back >= 2:
                status = UsageReportStatus.SAVED if back == 2 else UsageReportStatus.CONFIRMED
                submitted = generated + timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 8))
                if back > 2:
                    confirmed = submitted + timedelta(days=rng.randint(1, 4))
            self.add(
                _build(
                    UsageReport,
                    id=report_id,
                    created_at=generated,
                    provider_id=provider.id,
                    number=report_number(provider, month),
                    rental_agreement_number=provider.rental_agreement_number,
                    month=month,
                    status=status,
                    purchase_order_number=(
                        f"PO-{month.year}{month.month:02d}-{rng.randrange(1000, 10000)}"
                        if submitted
                        else ""
                    ),
                    minimum_commit_points=provider.minimum_commit_points,
                    usage_reporting_administrator=provider.usage_reporting_administrator,
                    aggregator_account=provider.aggregator_account,
                    submitted_at=submitted,
                    confirmed_at=confirmed,
                )
            )
            for customer_id, name, licensed in by_month.get(month, []):
                self.add(
                    _build(
                        UsageReportSaasLine,
                        id=_uuid(rng),
                        created_at=generated,
                        report_id=report_id,
                        **saas_line_values(customer_id, name[0], licensed, name[1], name[2]),
                    )
                )
            current = usage_by_workload(self.software.get((provider.id, month), []))
            previous = usage_by_workload(
                self.software.get((provider.id, _month_start(month, 1)), [])
            )
            for values in software_line_values(current, previous):
                self.add(
                    _build(
                        UsageReportSoftwareLine,
                        id=_uuid(rng),
                        created_at=generated,
                        report_id=report_id,
                        **values,
                    )
                )

    def _webhooks(self, provider: ServiceProvider, tag: str) -> None:
        """Two endpoints of the provider's own systems (Demo Provider only)."""
        if tag != "demo":
            return
        rng = self.rng(tag, "webhooks")
        slug = _slug(provider.display_name)
        endpoints = (
            (
                "Backup monitoring",
                f"https://monitoring.{slug}.example/hooks/vdc",
                [WebhookEvent.SESSION_FAILED, WebhookEvent.SESSION_FINISHED],
            ),
            (
                "Billing system",
                f"https://billing.{slug}.example/api/vdc-events",
                [
                    WebhookEvent.LICENSE_CHANGE,
                    WebhookEvent.USAGE_REPORT_STATUS,
                    WebhookEvent.CUSTOMER_ONBOARDED,
                ],
            ),
        )
        for offset, (description, url, events) in enumerate(endpoints):
            self.add(
                _build(
                    Webhook,
                    id=_uuid(rng),
                    created_at=self.anchor - timedelta(days=60 - offset * 20),
                    provider_id=provider.id,
                    url=url,
                    event_types=[e.value for e in events],
                    secret=f"whsec_{rng.getrandbits(192):048x}",
                    enabled=True,
                    description=description,
                )
            )

    async def _service_status(self) -> None:
        """Service status is platform-wide: rows that already exist are left alone."""
        rng = self.rng("service-status")
        existing = {
            (row.service, row.region) for row in await ServiceStatus.all().using_db(self.conn)
        }
        degraded = (ServiceName.EXCHANGE_BACKUP, rng.choice(list(Region)))
        for service in ServiceName:
            for region in Region:
                row_id, updated = _uuid(rng), self.anchor - _seconds(rng.uniform(0.01, 2))
                if (service, region) in existing:
                    continue
                is_degraded = (service, region) == degraded
                self.add(
                    _build(
                        ServiceStatus,
                        id=row_id,
                        created_at=self.anchor - timedelta(days=30),
                        service=service,
                        region=region,
                        health=ServiceHealth.DEGRADED if is_degraded else ServiceHealth.OPERATIONAL,
                        message=names.DEGRADED_MESSAGE if is_degraded else None,
                        updated_at=updated,
                    )
                )
        if not await MaintenanceWindow.all().using_db(self.conn).exists():
            starts = self.day0 + timedelta(days=rng.randint(3, 10), hours=2)
            self.add(
                _build(
                    MaintenanceWindow,
                    id=_uuid(rng),
                    created_at=self.anchor - timedelta(days=2),
                    service=ServiceName.BACKUP_STORAGE,
                    region=rng.choice(list(Region)),
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=4),
                    description=names.MAINTENANCE_MESSAGE,
                )
            )
