"""One typed settings object, read from ``VDC_*`` environment variables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The value ranges a setting may take; a value outside is refused at start-up with its name.
Positive = Annotated[int, Field(gt=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]
NonNegative = Annotated[int, Field(ge=0)]
NonNegativeSeconds = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Port = Annotated[int, Field(ge=1, le=65535)]
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    JSON = "json"  # one JSON object per line, for log collectors
    TEXT = "text"  # readable lines, for a terminal


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SmtpTls(StrEnum):
    NONE = "none"  # plain SMTP (local relays, tests)
    STARTTLS = "starttls"  # upgrade after connecting (port 587)
    TLS = "tls"  # implicit TLS from the start (port 465)


BROKER_SCHEMES = ("memory", "redis", "rediss", "postgres", "postgresql")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VDC_", extra="ignore")

    mode: Mode = Mode.DEVELOPMENT
    database_url: str = "sqlite://./vdc.db"
    # Where development secrets are kept between runs (never used in production).
    state_dir: Path = Path(".vdc")

    # Development tokens (HS256). Generated and kept in state_dir when unset in development.
    dev_token_secret: SecretStr | None = None
    dev_token_ttl_seconds: Positive = 8 * 3600

    # Production identity: OIDC (Microsoft Entra ID style), RS256 only.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks_cache_seconds: NonNegative = 3600
    token_leeway_seconds: NonNegative = 30

    # Customer-switch tokens (HS256, short-lived). Required in production; in development the
    # development secret is used when unset.
    switch_token_secret: SecretStr | None = None
    switch_token_ttl_seconds: Positive = 900

    # Signed download links (`downloadUrl` fields). When unset, a secret derived from the
    # customer-switch secret is used.
    download_url_secret: SecretStr | None = None
    download_url_ttl_seconds: int = 300
    # The API's own base URL for those links; by default the URL the request came to.
    api_url: str | None = None

    # Proxies whose X-Forwarded-For is believed (addresses or CIDR networks, a JSON list).
    trusted_proxies: list[str] = []

    # Request limits, each checked before execution (the README gives the reason for each).
    max_depth: Positive = 10
    max_aliases: NonNegative = 15  # aliases of __schema/__type included
    max_directives: NonNegative = 50
    max_nodes: Positive = 50_000  # nodes a query may ask for across nested connections
    max_tokens: Positive = 2000
    max_document_bytes: Positive = 100_000
    max_node_ids: Positive = 100  # IDs one nodes(ids:) may name
    max_body_bytes: Positive = 262_144  # an HTTP request body, enforced while it is read
    max_variables_bytes: Positive = 65_536  # the variables of one request, as JSON
    max_json_depth: Positive = 20  # nesting of any JSON a client sends (body, variables, messages)
    request_timeout_seconds: PositiveSeconds = 30.0
    rate_limit_points_per_hour: Positive = 5000

    # Persisted documents: Apollo's automatic persisted queries (a bounded store per process;
    # 0 entries turns them off) and a manifest of trusted documents, optionally the only ones.
    apq_max_entries: NonNegative = 1000
    apq_max_bytes: NonNegative = 5_000_000
    trusted_documents: Path | None = None
    trusted_documents_only: bool = False

    # WebSocket: seconds a client has to send connection_init
    ws_init_timeout_seconds: PositiveSeconds = 5.0
    # An open socket re-checks its caller's rights on every rights-changed event and, as a
    # backstop for a missed event, this often.
    ws_rights_recheck_seconds: PositiveSeconds = 10.0

    # Events across processes: memory:// (one process), redis://… or postgres://… (several).
    broker_url: str = "memory://"
    broker_prefix: str = "vdc"  # of Redis channels and the PostgreSQL NOTIFY channel
    # How long a process's claim (a running session, the scheduler's leadership) lives
    # without renewal: another process takes over at most about this long after a crash.
    lease_seconds: float = 15.0

    # Database resilience
    sqlite_busy_timeout_ms: NonNegative = 5000

    # Outgoing email (SMTP). Without a host, email waits in the outbox until one is configured.
    smtp_host: str | None = None
    smtp_port: Port = 587
    smtp_tls: SmtpTls = SmtpTls.STARTTLS
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "VDC Portal <no-reply@localhost>"
    smtp_timeout_seconds: PositiveSeconds = 30.0

    # Links in emails point here (the customer portal's base URL).
    public_url: str = "http://localhost:8000"
    invitation_ttl_hours: Positive = 7 * 24

    # Microsoft device login: the built-in simulator, or another platform when one exists.
    identity_platform: str = "simulated"
    device_code_ttl_seconds: Positive = 900
    # The backup engine (the built-in Microsoft 365 backup simulator)
    # pause between processed objects: the pace of a session
    engine_step_seconds: NonNegativeSeconds = 0.5
    engine_seed: int = 1  # same seed, same policy: the same session
    engine_warning_rate: Share = 0.1  # share of objects processed with a warning
    engine_failure_rate: Share = 0.03  # share of objects whose processing fails
    scheduler_interval_seconds: PositiveSeconds = 30.0  # how often due policies are looked for

    # Outbound requests (webhooks, Teams, JWKS) reach public addresses only; these networks
    # (CIDR, a JSON list) are allowed besides, explicitly: e.g. ["127.0.0.1/32"] for a local
    # receiver in development, or an internal identity provider.
    outbound_allowed_networks: list[str] = []

    # Notifications
    teams_timeout_seconds: PositiveSeconds = 10.0
    # Signed webhooks: per-attempt timeout, backoff (doubling from the base) and attempts.
    webhook_timeout_seconds: PositiveSeconds = 10.0
    webhook_retry_base_seconds: PositiveSeconds = 10.0
    webhook_max_attempts: Positive = 12
    webhook_poll_seconds: PositiveSeconds = 1.0

    # The server's log: format and level (every request is one INFO line).
    log_format: LogFormat = LogFormat.JSON
    log_level: LogLevel = LogLevel.INFO

    # Bearer token /metrics asks for; without it /metrics is open in development, off in
    # production.
    metrics_token: SecretStr | None = None

    # How often the server checks that last month's usage reports exist (0 turns it off).
    usage_report_check_seconds: NonNegativeSeconds = 3600.0
    # Releases licences, expires storage past retention and records the month's figures.
    licence_refresh_seconds: NonNegativeSeconds = 86400.0

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                f"the scheme {scheme or '(none)'}:// is not supported; "
                "use sqlite://PATH or postgres://user:password@host:5432/database"
            )
        return url

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "must be an http:// or https:// address such as https://portal.example"
            )
        return url.rstrip("/")

    # How often the alarm rules are evaluated (0 turns it off), and how often an alarm nobody
    # acknowledged is notified again while its condition holds.
    alarm_check_seconds: float = 300.0
    alarm_renotify_hours: float = 24.0
    # How often approved offboarding requests whose desired date has come are completed.
    offboarding_check_seconds: NonNegativeSeconds = 600.0

    @model_validator(mode="after")
    def _known_broker(self) -> Settings:
        scheme = self.broker_url.split("://", 1)[0]
        if "://" not in self.broker_url or scheme not in BROKER_SCHEMES:
            raise ValueError(
                "VDC_BROKER_URL must start with memory://, redis://, rediss://, postgres:// "
                f"or postgresql:// (got {self.broker_url.split('@')[-1]!r})"
            )
        if self.lease_seconds < 1:
            raise ValueError("VDC_LEASE_SECONDS must be at least 1")
        return self

    @property
    def broker_crosses_processes(self) -> bool:
        return not self.broker_url.startswith("memory://")

    @model_validator(mode="after")
    def _production_needs_identity(self) -> Settings:
        if self.mode is Mode.PRODUCTION and not (
            self.oidc_issuer and self.oidc_audience and self.oidc_jwks_url
        ):
            raise ValueError(
                "production mode needs VDC_OIDC_ISSUER, VDC_OIDC_AUDIENCE and VDC_OIDC_JWKS_URL"
            )
        if self.trusted_documents_only and self.trusted_documents is None:
            raise ValueError("VDC_TRUSTED_DOCUMENTS_ONLY needs VDC_TRUSTED_DOCUMENTS (a manifest)")
        if self.mode is Mode.PRODUCTION and self.switch_token_secret is None:
            raise ValueError("production mode needs VDC_SWITCH_TOKEN_SECRET")
        return self

    @property
    def is_development(self) -> bool:
        return self.mode is Mode.DEVELOPMENT

    def development_secret(self) -> str | None:
        """The HS256 secret for development tokens; created and kept locally on first use."""
        if self.dev_token_secret is not None:
            return self.dev_token_secret.get_secret_value()
        if not self.is_development:
            return None
        path = self.state_dir / "dev-token-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def switch_secret(self) -> str | None:
        """The HS256 secret of customer-switch tokens (the development one in development)."""
        if self.switch_token_secret is not None:
            return self.switch_token_secret.get_secret_value()
        development = self.development_secret()
        return None if development is None else "customer-switch:" + development

    def download_secret(self) -> str:
        """The HS256 secret of download links."""
        if self.download_url_secret is not None:
            return self.download_url_secret.get_secret_value()
        switch = self.switch_secret()
        if switch is None:
            raise ValueError("download links need VDC_DOWNLOAD_URL_SECRET")
        return "download-link:" + switch


def redacted(url: str) -> str:
    """A URL without its password, fit for a message or a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def describe_errors(error: ValidationError) -> list[str]:
    """One line per refused setting: the variable's name, the rule and the value given."""
    lines = []
    for item in error.errors():
        name = "VDC_" + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        if not item["loc"]:  # a rule over several settings names them itself
            lines.append(message)
            continue
        value = item["input"]
        if name == "VDC_DATABASE_URL" and isinstance(value, str):
            value = redacted(value)
        secret = "SECRET" in name or "PASSWORD" in name
        shown = "" if secret else f" (got {value!r})"
        lines.append(f"{name}: {message.lower()[:1]}{message[1:]}{shown}")
    return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
