"""One typed settings object, read from ``VDC_*`` environment variables."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SmtpTls(StrEnum):
    NONE = "none"  # plain SMTP (local relays, tests)
    STARTTLS = "starttls"  # upgrade after connecting (port 587)
    TLS = "tls"  # implicit TLS from the start (port 465)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VDC_", extra="ignore")

    mode: Mode = Mode.DEVELOPMENT
    database_url: str = "sqlite://./vdc.db"
    # Where development secrets are kept between runs (never used in production).
    state_dir: Path = Path(".vdc")

    # Development tokens (HS256). Generated and kept in state_dir when unset in development.
    dev_token_secret: SecretStr | None = None
    dev_token_ttl_seconds: int = 8 * 3600

    # Production identity: OIDC (Microsoft Entra ID style), RS256 only.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks_cache_seconds: int = 3600
    token_leeway_seconds: int = 30

    # Customer-switch tokens (HS256, short-lived). Required in production; in development the
    # development secret is used when unset.
    switch_token_secret: SecretStr | None = None
    switch_token_ttl_seconds: int = 900

    # Proxies whose X-Forwarded-For is believed (addresses or CIDR networks, a JSON list).
    trusted_proxies: list[str] = []

    # Request limits, each checked before execution (the README gives the reason for each).
    max_depth: int = 10
    max_aliases: int = 15  # aliases of __schema/__type included
    max_directives: int = 50
    max_nodes: int = 50_000  # nodes a query may ask for across nested connections
    max_tokens: int = 2000
    max_document_bytes: int = 100_000
    max_node_ids: int = 100  # IDs one nodes(ids:) may name
    max_body_bytes: int = 262_144  # an HTTP request body, enforced while it is read
    max_variables_bytes: int = 65_536  # the variables of one request, as JSON
    max_json_depth: int = 20  # nesting of any JSON a client sends (body, variables, messages)
    request_timeout_seconds: float = 30.0
    rate_limit_points_per_hour: int = 5000

    # Persisted documents: Apollo's automatic persisted queries (a bounded store per process;
    # 0 entries turns them off) and a manifest of trusted documents, optionally the only ones.
    apq_max_entries: int = 1000
    apq_max_bytes: int = 5_000_000
    trusted_documents: Path | None = None
    trusted_documents_only: bool = False

    # WebSocket: seconds a client has to send connection_init
    ws_init_timeout_seconds: float = 5.0
    # An open socket re-checks its caller's rights on every rights-changed event and, as a
    # backstop for a missed event, this often.
    ws_rights_recheck_seconds: float = 10.0

    # Database resilience
    sqlite_busy_timeout_ms: int = 5000

    # Outgoing email (SMTP). Without a host, email waits in the outbox until one is configured.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: SmtpTls = SmtpTls.STARTTLS
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "VDC Portal <no-reply@localhost>"
    smtp_timeout_seconds: float = 30.0

    # Links in emails point here (the customer portal's base URL).
    public_url: str = "http://localhost:8000"
    invitation_ttl_hours: int = 7 * 24

    # Microsoft device login: the built-in simulator, or another platform when one exists.
    identity_platform: str = "simulated"
    device_code_ttl_seconds: int = 900
    # The backup engine (the built-in Microsoft 365 backup simulator)
    engine_step_seconds: float = 0.5  # pause between processed objects: the pace of a session
    engine_seed: int = 1  # same seed, same policy: the same session
    engine_warning_rate: float = 0.1  # share of objects processed with a warning
    engine_failure_rate: float = 0.03  # share of objects whose processing fails
    scheduler_interval_seconds: float = 30.0  # how often due policies are looked for

    # Outbound requests (webhooks, Teams, JWKS) reach public addresses only; these networks
    # (CIDR, a JSON list) are allowed besides, explicitly: e.g. ["127.0.0.1/32"] for a local
    # receiver in development, or an internal identity provider.
    outbound_allowed_networks: list[str] = []

    # Notifications
    teams_timeout_seconds: float = 10.0
    # Signed webhooks: per-attempt timeout, backoff (doubling from the base) and attempts.
    webhook_timeout_seconds: float = 10.0
    webhook_retry_base_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_poll_seconds: float = 1.0

    # How often the server checks that last month's usage reports exist (0 turns it off).
    usage_report_check_seconds: float = 3600.0
    # Releases licences, expires storage past retention and records the month's figures.
    licence_refresh_seconds: float = 86400.0
    # How often approved offboarding requests whose desired date has come are completed.
    offboarding_check_seconds: float = 600.0

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
