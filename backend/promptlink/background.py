"""Background workers of the backend: the cadence sweeper and the outbox sender."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.chat.gateway import ChatGateway
from promptlink.infra.clock import Clock
from promptlink.infra.db import transaction
from promptlink.infra.lease import Fence
from promptlink.infra.settings import Settings
from promptlink.models import OutboxItem
from promptlink.services import outbox
from promptlink.services.courses import send_due_materials_notices
from promptlink.services.sweeper import sweep

log = logging.getLogger(__name__)


class OutboxSender:
    """Delivers pending outbox items: e-mail through the SMTP relay, chat into conversations.

    Without a relay, demo mode keeps the e-mail in the outbox as delivered to the local
    demo mailbox (/demo/mailbox); outside demo mode it stays pending with the error shown.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        gateway: ChatGateway | None,
    ) -> None:
        self.sessions, self.settings, self.clock, self.gateway = sessions, settings, clock, gateway

    async def send_email(self, item: OutboxItem) -> str:
        if not self.settings.smtp_relay_host:
            if self.settings.demo:
                return "demo-mailbox"
            raise RuntimeError("no SMTP relay configured (PROMPTLINK_SMTP_RELAY_HOST)")
        message = EmailMessage()
        message["From"] = self.settings.support_email
        message["To"] = item.recipient
        message["Subject"] = item.subject
        for key, value in (item.headers or {}).items():
            message[key] = str(value)
        # RFC 5322: Date is required, Message-ID expected; neither is added by the SMTP client. The ID is
        # the outbox item's own, so a retry of an e-mail the relay took already is recognisably the same.
        if "Date" not in message:
            message["Date"] = format_datetime(self.clock.now())
        if "Message-ID" not in message:
            domain = self.settings.support_email.rpartition("@")[2] or "promptlink.invalid"
            message["Message-ID"] = f"<outbox.{item.id}.{item.created_at.strftime('%Y%m%d%H%M%S%f')}@{domain}>"
        message.set_content(item.body)
        if item.html:
            message.add_alternative(item.html, subtype="html")
        password = self.settings.smtp_relay_password.get_secret_value() if self.settings.smtp_relay_password else None
        await aiosmtplib.send(
            message,
            hostname=self.settings.smtp_relay_host,
            port=self.settings.smtp_relay_port,
            username=self.settings.smtp_relay_user or None,
            password=password,
            start_tls=self.settings.smtp_relay_starttls,
            timeout=20,
        )
        return "smtp"

    async def send_chat(self, item: OutboxItem) -> str:
        if self.gateway is None or not item.conversation_id:
            raise RuntimeError("no chat gateway in this process")
        await self.gateway.post(
            conversation_id=item.conversation_id,
            role="agent",
            text=item.body,
            author_name=item.recipient or "Soporte Técnico Promptlink",
        )
        return "chat"

    async def run_once(self) -> int:
        """Send what is due; returns how many items were attempted.

        Each delivery runs outside any database transaction (a chat delivery stores a
        message itself, and SQLite allows one writer), and its outcome is recorded in a
        short transaction of its own.
        """
        async with self.sessions() as session:
            due = await outbox.due_items(session=session, now=self.clock.now())
        if not due:
            return 0
        async with transaction(self.sessions) as session:
            items = await outbox.claim_due(session=session, items=due, now=self.clock.now())
        for item in items:
            error: str | None = None
            via = ""
            try:
                via = await (self.send_email(item) if item.kind == "email" else self.send_chat(item))
            except Exception as exc:  # noqa: BLE001 - any delivery failure is retried
                error = f"{type(exc).__name__}: {exc}"
            async with transaction(self.sessions) as session:
                row = await session.get(OutboxItem, item.id)
                if row is None or row.state != "pending":
                    continue
                if error is None:
                    outbox.mark_sent(row, now=self.clock.now())
                    row.headers = {**(row.headers or {}), "X-Delivered-Via": via}
                else:
                    outbox.mark_failed(
                        row, now=self.clock.now(), error=error, max_attempts=self.settings.outbox_max_attempts
                    )
                    log.warning(
                        "delivery failed",
                        extra={"outbox_id": row.id, "kind": row.kind, "attempts": row.attempts, "error": error},
                    )
        return len(items)


async def sweep_once(
    *, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock, fence: Fence | None = None
) -> Any:
    """One sweep in one transaction. Under a lease (`fence`), the transaction commits only while
    this process still holds it: a holder paused across a takeover sends nothing (`LeaseLost`)."""
    async with transaction(sessions) as session:
        result = await sweep(
            session=session,
            now=clock.now(),
            reminder_lead=timedelta(minutes=settings.reminder_lead_minutes),
            fallback_supervisor=settings.supervisor_email,
        )
        if fence is not None:
            await fence.verify(session)
    if result.reminded or result.breached:
        log.info("cadence sweep", extra={"reminded": len(result.reminded), "breached": len(result.breached)})
    return result


async def send_training_notices_once(
    *, sessions: async_sessionmaker[AsyncSession], clock: Clock, fence: Fence | None = None
) -> int:
    """Queue the training materials notices that are due (two weeks before each course); under a
    lease, only while this process still holds it (as `sweep_once`)."""
    async with transaction(sessions) as session:
        sent = await send_due_materials_notices(session=session, now=clock.now())
        if fence is not None:
            await fence.verify(session)
    if sent:
        log.info("training materials notices", extra={"requests": sent})
    return sent


async def run_periodically(name: str, interval: float, job: Any) -> None:
    """Run `job()` every `interval` seconds until cancelled; errors are logged, never fatal."""
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker failed", extra={"worker": name})
        await asyncio.sleep(interval)
