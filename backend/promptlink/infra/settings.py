"""One settings object for the backend process, read from the environment (and `.env`)."""

from __future__ import annotations

import ipaddress
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from jwt.warnings import InsecureKeyLengthWarning
from limits import parse_many
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[3]

# Values that are only acceptable in demo mode: a real deployment must set its own.
DEMO_SECRETS = {
    "widget_secret": "demo-widget-secret",
    "session_secret": "demo-session-secret-not-for-production",
    "service_token": "demo-service-token-not-for-production",
    "rasa_token": "demo-rasa-token-not-for-production",
    "rasa_channel_token": "demo-rasa-channel-token-not-for-production",
    "actions_token": "demo-actions-token-not-for-production",
}

# SNMP identities of the demo (docs/snmp.md): a v2c community and one v3 authPriv user.
DEMO_SNMP_COMMUNITIES = ("public",)
DEMO_SNMP_V3_USERS = (
    {
        "user": "promptlink",
        "auth": "sha256",
        "auth_key": "demo-auth-pass",
        "priv": "aes128",
        "priv_key": "demo-priv-pass",
        "engine_id": "8000000001020304",
    },
)
DEMO_SNMP_KEYS = {"demo-auth-pass", "demo-priv-pass"}


class SettingsError(RuntimeError):
    """The configuration cannot be used; the message says which variable to set."""


class Settings(BaseSettings):
    """Backend configuration. Every field maps to `PROMPTLINK_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="PROMPTLINK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    redis_url: str | None = None
    # The pub/sub channel the backend processes of one deployment share (socket.io Redis manager).
    redis_channel: str = "promptlink"

    widget_secret: SecretStr | None = None
    session_secret: SecretStr | None = None
    service_token: SecretStr | None = None

    rasa_url: str = "http://127.0.0.1:5005"
    # The Rasa servers conversations are spread over (each conversation always goes to the
    # same one while it is up): comma-separated URLs. Empty: `rasa_url` and the next
    # `rasa_processes - 1` ports on its host. `run` starts one local Rasa process per URL.
    rasa_urls: str = ""
    rasa_processes: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), ge=1, le=8)
    rasa_token: SecretStr | None = None
    rasa_channel_token: SecretStr | None = None
    actions_url: str = "http://127.0.0.1:5055"
    # What Rasa sends the action server (bearer token); the action server refuses calls without it.
    actions_token: SecretStr | None = None
    rasa_timeout_seconds: float = 30.0

    support_email: str = "soporte@promptlink.example"
    supervisor_email: str = "supervisor@promptlink.example"

    smtp_intake_enabled: bool = True
    smtp_intake_host: str = "127.0.0.1"
    smtp_intake_port: int = 2525
    smtp_relay_host: str = ""
    smtp_relay_port: int = 25
    smtp_relay_user: str = ""
    smtp_relay_password: SecretStr | None = None
    smtp_relay_starttls: bool = False
    # Inbound mail (docs/email.md): who vouches for a mail's From (`none`, `relay` = the
    # Authentication-Results of a trusted relay, `dns` = SPF/DKIM/DMARC checked here), and rate
    # limits in the `limits` notation ("5/minute;30/hour"); over them the intake answers 451.
    email_auth: Literal["none", "relay", "dns"] = "none"
    email_trusted_relays: list[str] = Field(default_factory=list)
    email_authserv_id: str = ""
    email_dns_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    email_rate_per_sender: str = "10/minute;60/hour"
    email_rate_global: str = "20/minute;300/hour"
    # Auto-replies (acknowledgements, confirmation requests) to senders that are not authenticated.
    email_unauthenticated_replies_global: str = "10/hour"
    email_unauthenticated_replies_per_recipient: str = "3/hour"

    workers_enabled: bool = True
    sweeper_interval_seconds: float = 60.0
    reminder_lead_minutes: int = 30
    outbox_interval_seconds: float = 2.0
    outbox_max_attempts: int = 8
    # Singletons (SMTP intake, SNMP receiver, sweeper, training notices) run in one process of the
    # cluster under a lease (infra/lease.py): a standby tries to take it every this many seconds.
    lease_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    agent_token_hours: int = 12
    # Failed logins (docs/security.md), in the `limits` notation: per client address and per
    # account; over either the login answers 429 with Retry-After (Redis-shared with a Redis URL).
    login_rate_per_ip: str = "5/5 minutes"
    login_rate_per_account: str = "10/15 minutes"
    # The longest a widget identity token may still be valid (its `exp`, required, at most this far ahead).
    widget_token_max_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    # The estimated wait per queue position until a tier has claimed chats to average over.
    handoff_default_wait_seconds: int = Field(default=300, ge=1, le=86400)
    max_message_chars: int = Field(default=2000, ge=1, le=20000)
    # Files in the chat and in e-mails (services/attachments.py): the largest accepted, in bytes.
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    # Live chat: `claim` (agents pick from the queue) or `auto` (the least busy online agent of
    # the tier gets the chat). Messages per socket: a bucket of `burst`, refilled at `per_second`.
    chat_assignment: Literal["claim", "auto"] = "claim"
    chat_rate_burst: int = Field(default=10, ge=1, le=1000)
    chat_rate_per_second: float = Field(default=2.0, gt=0, le=1000)
    # Open `/chat` sockets per client address (0: unbounded); one more is refused. `typing`
    # events relayed per socket (the `limits` notation); extra ones are dropped silently.
    chat_connections_per_ip: int = Field(default=20, ge=0, le=1_000_000)
    chat_typing_rate: str = "4/second;60/minute"
    # An agent whose last console socket closed is set offline after this many seconds.
    agent_offline_grace_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Administrators' training loop (docs/admin.md): where the bot's training inputs are, where the
    # reviewed examples are exported, where trained models and the `active` pointer live.
    bot_project_dir: Path = PROJECT_ROOT
    reviewed_nlu_path: Path = PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
    models_dir: Path = PROJECT_ROOT / "models"
    review_confidence_threshold: float = Field(default=0.55, ge=0.0, le=1.0)
    log_level: str = "INFO"
    # The `process` label of this process's Prometheus metrics (docs/operations.md). Empty:
    # `backend@<host>:<port>`, or `snmp@<metrics host>:<metrics port>` for `python -m promptlink snmp`.
    process_name: str = ""
    log_format: str = "json"
    # How long a thread may hold the GIL before another that waits gets it (`sys.setswitchinterval`).
    # Python's 5 ms made the chat path's writer thread wait behind a busy event loop: at 300 chats
    # the backend path's p95 went from 1.7-2.3x Rasa direct to 1.4-1.6x at 0.5 ms (docs/performance.md).
    gil_switch_ms: float = Field(default=0.5, gt=0, le=100)

    # SNMP trap receiver (docs/snmp.md). Communities and v3 users are secrets: demo values in demo mode only.
    snmp_enabled: bool = True
    snmp_host: str = "127.0.0.1"
    snmp_port: int = Field(default=1162, ge=0, le=65535)
    snmp_communities: list[str] | None = None
    snmp_v3_users: list[dict[str, str]] | None = None
    snmp_rules_path: Path | None = None
    snmp_queue_size: int = Field(default=50_000, ge=1)  # unused since the journal (kept: old environments)
    # The durable hand-off receiver -> alarm worker (docs/snmp.md «Durable intake»).
    snmp_journal_dir: Path | None = None  # default <var_dir>/snmp/journal
    snmp_journal_max_bytes: int = Field(default=1 << 30, ge=1 << 20)
    snmp_journal_commit_ms: float = Field(default=10.0, gt=0, le=1000)
    snmp_device_rate: float = Field(default=20.0, gt=0)
    snmp_device_burst: int = Field(default=100, ge=1)
    snmp_rcvbuf_bytes: int = Field(default=32 * 1024 * 1024, ge=0)  # absorbs ~30,000 traps behind a busy core
    snmp_fast_path: bool = True  # direct BER reader for v2c traps (docs/snmp.md); 0 = pysnmp only
    # Who may raise alarms (docs/snmp.md "Trust"): v3 traps below this security level are dropped.
    snmp_min_security_level: Literal["noAuthNoPriv", "authNoPriv", "authPriv"] = "authPriv"
    # v1/v2c traps carry no authentication (a community is noAuthNoPriv): accepted only when on.
    # Unset: on in demo mode (community `public`), off otherwise.
    snmp_allow_communities: bool | None = None
    # Relays (addresses or networks) whose agent address (v1 agent-addr, snmpTrapAddress.0) names the
    # device; from any other source the UDP source address is the device, whatever the varbinds say.
    snmp_trusted_relays: list[str] = Field(default_factory=list)
    # New tickets SNMP alarms may open per device per window (unset: the rules file's `correlation`);
    # further alarms of that device are attached to its open ticket.
    snmp_device_tickets: int | None = Field(default=None, ge=1, le=1000)
    snmp_device_ticket_window_minutes: float | None = Field(default=None, gt=0)
    # `python -m promptlink snmp` serves its Prometheus metrics on http://host:port/metrics (0: a free
    # port, printed at start; the backend serves its own on /api/v1/metrics). No authentication:
    # keep it on an internal address (docs/operations.md).
    snmp_metrics_host: str = "127.0.0.1"
    snmp_metrics_port: int = Field(default=9162, ge=0, le=65535)

    @model_validator(mode="after")
    def _defaults_and_secrets(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'promptlink.db'}"
        for name, demo_value in DEMO_SECRETS.items():
            value: SecretStr | None = getattr(self, name)
            if self.demo:
                # The documented demo widget secret is shorter than PyJWT recommends; fine for a demo.
                warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
                if value is None:
                    setattr(self, name, SecretStr(demo_value))
                continue
            env = f"PROMPTLINK_{name.upper()}"
            if value is None or not value.get_secret_value():
                raise SettingsError(
                    f"{env} is not set. Set it to a long random value, or run in demo mode with PROMPTLINK_DEMO=1."
                )
            if value.get_secret_value() == demo_value or len(value.get_secret_value()) < 32:
                raise SettingsError(
                    f"{env} is a demo or too short value (under 32 characters); "
                    "set a long random secret outside demo mode."
                )
        # One value in two places would let one secret's holder pass for the other (a website
        # holding the widget secret could sign agent tokens with an equal session secret).
        names = list(DEMO_SECRETS)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                one, two = getattr(self, first), getattr(self, second)
                if one is not None and two is not None and one.get_secret_value() == two.get_secret_value() != "":
                    raise SettingsError(
                        f"PROMPTLINK_{first.upper()} and PROMPTLINK_{second.upper()} have the same value; "
                        "each secret needs its own long random value."
                    )
        if self.snmp_communities is None:
            self.snmp_communities = list(DEMO_SNMP_COMMUNITIES) if self.demo else []
        if self.snmp_allow_communities is None:
            self.snmp_allow_communities = self.demo
        for relay in self.snmp_trusted_relays:
            try:
                ipaddress.ip_network(relay, strict=False)
            except ValueError as exc:
                raise SettingsError(f"PROMPTLINK_SNMP_TRUSTED_RELAYS: {relay!r} is not an address or network.") from exc
        if self.snmp_v3_users is None:
            self.snmp_v3_users = [dict(user) for user in DEMO_SNMP_V3_USERS] if self.demo else []
        elif not self.demo:
            for user in self.snmp_v3_users:
                for field_name in ("auth_key", "priv_key"):
                    if len(user.get(field_name, "")) < 8 or user.get(field_name) in DEMO_SNMP_KEYS:
                        raise SettingsError(
                            f"PROMPTLINK_SNMP_V3_USERS: {field_name} of {user.get('user')!r} "
                            "is a demo or too short key."
                        )
        for name in (
            "email_rate_per_sender",
            "email_rate_global",
            "email_unauthenticated_replies_global",
            "email_unauthenticated_replies_per_recipient",
        ):
            try:
                parse_many(getattr(self, name))
            except ValueError as exc:
                raise SettingsError(f"PROMPTLINK_{name.upper()} is not a rate such as '5/minute;30/hour'") from exc
        for relay in self.email_trusted_relays:
            try:
                ipaddress.ip_network(relay, strict=False)
            except ValueError as exc:
                raise SettingsError(
                    f"PROMPTLINK_EMAIL_TRUSTED_RELAYS: {relay!r} is not an address or network."
                ) from exc
        if self.email_auth == "relay" and not (self.email_trusted_relays and self.email_authserv_id.strip()):
            raise SettingsError(
                "PROMPTLINK_EMAIL_AUTH=relay needs PROMPTLINK_EMAIL_TRUSTED_RELAYS and PROMPTLINK_EMAIL_AUTHSERV_ID."
            )
        return self

    @model_validator(mode="after")
    def _login_limits(self) -> Settings:
        for name in ("login_rate_per_ip", "login_rate_per_account"):
            try:
                parse_many(getattr(self, name))
            except ValueError as exc:
                raise SettingsError(f"PROMPTLINK_{name.upper()} is not a rate such as '5/5 minutes'") from exc
        return self

    @model_validator(mode="after")
    def _chat_limits(self) -> Settings:
        try:
            parse_many(self.chat_typing_rate)
        except ValueError as exc:
            raise SettingsError("PROMPTLINK_CHAT_TYPING_RATE is not a rate such as '4/second;60/minute'") from exc
        return self

    def secret(self, name: str) -> str:
        """The plain value of a secret field; validated non-empty at start."""
        value: SecretStr | None = getattr(self, name)
        assert value is not None
        return value.get_secret_value()

    @property
    def rasa_servers(self) -> list[str]:
        """The Rasa servers' base URLs, in order (see `rasa_urls`)."""
        if self.rasa_urls.strip():
            return [url.strip().rstrip("/") for url in self.rasa_urls.split(",") if url.strip()]
        first = urlsplit(self.rasa_url.rstrip("/"))
        port = first.port or 80
        return [self.rasa_url.rstrip("/")] + [
            urlunsplit((first.scheme, f"{first.hostname}:{port + k}", first.path, "", ""))
            for k in range(1, self.rasa_processes)
        ]

    @property
    def lease_idle_seconds(self) -> float:
        """How long a lease's PostgreSQL session may stay silent before the server ends it, freeing
        the lease of a frozen holder (infra/lease.py)."""
        return max(5.0, 5 * self.lease_poll_seconds)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return Settings()
