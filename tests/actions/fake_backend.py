"""An in-memory stand-in for the backend API, with the same permission rule (own company only)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from actions.backend import BackendError, BackendUnavailable

CONTACTS = {
    "ana.gomez@cableandina.example": ("CABLEANDINA", "Ana Gómez"),
    "maria.rodriguez@telecaribe.example": ("TELECARIBE", "María Rodríguez"),
}


TIMEZONES = {"CABLEANDINA": "America/Bogota", "TELECARIBE": "America/Santo_Domingo"}
DEVICES = {
    "CABLEANDINA": [
        {"name": "cmts-bog-01", "serial": "PLK-CMTS-0001", "model": "PL-CMTS 3200"},
        {"name": "cmts-bog-02", "serial": "PLK-CMTS-0002", "model": "PL-CMTS 3200"},
    ],
    "TELECARIBE": [{"name": "olt-sdq-01", "serial": "PLK-OLT-0101", "model": "PL-OLT 1600"}],
}


class FakeBackend:
    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.tickets: Dict[str, Dict[str, Any]] = {}
        self.keys: Dict[str, str] = {}
        self.handoffs: List[Dict[str, Any]] = []
        self.training: List[Dict[str, Any]] = []
        self.codes: Dict[str, str] = {}
        self.alarms: Dict[str, List[Dict[str, Any]]] = {}  # by customer code
        self.comments: List[Dict[str, Any]] = []

    def _check(self) -> None:
        if self.down:
            raise BackendUnavailable("connection refused")

    async def create_ticket(self, *, contact: str, body: Dict[str, Any], idempotency_key: str) -> Dict[str, Any]:
        self._check()
        if idempotency_key in self.keys:
            return self.tickets[self.keys[idempotency_key]]
        priority, tier = _classify(body)
        number = f"PL-2026-{len(self.tickets) + 1:06d}"
        history = [{"kind": "rma", "data": {"rma": "RMA-2026-000001"}}] if body["type"] == "hardware_failure" else []
        ticket = {
            "number": number,
            "priority": priority,
            "tier": tier,
            "type": body["type"],
            "title": body["title"],
            "status": "new",
            "customer": CONTACTS[contact][0],
            "covered": True,
            "coverage_note": "",
            "history": history,
            "device": body.get("device") or body.get("device_text"),
            "channel": body.get("channel", "chat"),
            "body": body,
        }
        self.tickets[number] = ticket
        self.keys[idempotency_key] = number
        return ticket

    async def get_ticket(self, *, contact: str, number: str) -> Optional[Dict[str, Any]]:
        self._check()
        ticket = self.tickets.get(number)
        return ticket if ticket and ticket["customer"] == CONTACTS[contact][0] else None

    async def open_tickets(self, *, contact: str) -> List[Dict[str, Any]]:
        self._check()
        return [t for t in self.tickets.values() if t["customer"] == CONTACTS[contact][0]]

    async def open_tickets_page(self, *, contact: str, limit: int) -> Dict[str, Any]:
        self._check()
        mine = [
            t
            for t in self.tickets.values()
            if t["customer"] == CONTACTS[contact][0] and t["status"] in ("new", "open", "pending_customer")
        ]
        return {"items": mine[:limit], "total": len(mine)}

    async def deployment_plan(self, *, contact: str, customer: str) -> Dict[str, Any]:
        self._check()
        if CONTACTS[contact][0] != customer:
            raise BackendError(404, "customer not found")
        return {"current_stage": 4, "current_stage_name": "Apoyo operacional"}

    async def request_training(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self._check()
        if body["attendees"] > 6:
            raise BackendError(422, "on-site courses take at most 6 attendees")
        self.training.append(body)
        return {
            **body,
            "materials_notice_due": "2027-02-28",
            "short_notice": False,
            "missing_facilities": [] if body["facilities"]["room"] else ["room"],
        }

    async def handoff(self, *, conversation_id: str, tier: str, reason: str, ticket: Optional[str]) -> Dict[str, Any]:
        self._check()
        self.handoffs.append({"conversation_id": conversation_id, "tier": tier, "reason": reason, "ticket": ticket})
        return {"conversation_id": conversation_id, "mode": "queued", "tier": tier, "position": 1, "eta_seconds": 300}

    async def start_verification(self, *, conversation_id: str, customer: str, email: str) -> Dict[str, Any]:
        self._check()
        if email in CONTACTS and CONTACTS[email][0] == customer:
            self.codes[conversation_id] = "123456"
        return {"status": "sent"}

    async def confirm_verification(self, *, conversation_id: str, code: str) -> Dict[str, Any]:
        self._check()
        if conversation_id not in self.codes:
            raise BackendError(422, "no verification started")
        if self.codes[conversation_id] != code:
            self.attempts = getattr(self, "attempts", 5) - 1
            if self.attempts <= 0:
                del self.codes[conversation_id]
                raise BackendError(422, "too many attempts")
            raise BackendError(422, "wrong code", {"detail": "wrong code", "attempts_left": self.attempts})
        return {
            "verified": True,
            "contact": "ana.gomez@cableandina.example",
            "customer": "CABLEANDINA",
            "customer_name": "Cable Andina S.A.",
            "name": "Ana Gómez",
        }

    async def open_alarms(self, *, contact: str) -> List[Dict[str, Any]]:
        self._check()
        return list(self.alarms.get(CONTACTS[contact][0], []))

    async def customer_devices(self, *, contact: str, customer: str) -> Dict[str, Any]:
        self._check()
        if CONTACTS[contact][0] != customer:
            raise BackendError(404, "customer not found")
        return {"customer": customer, "timezone": TIMEZONES[customer], "devices": DEVICES[customer]}

    async def preview_ticket(self, *, contact: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """Priority as docs/support-plan.md#priorities, and the company's open tickets for the same device."""
        self._check()
        priority, tier = _classify(body)
        customer = CONTACTS[contact][0]
        device = body.get("device") or body.get("device_text")
        duplicates = [
            {k: t[k] for k in ("number", "title", "priority", "status", "channel", "device")} | {"status_name": "nuevo"}
            for t in reversed(list(self.tickets.values()))
            if t["customer"] == customer and device and t.get("device") == device and t["status"] == "new"
        ]
        return {"priority": priority, "tier": tier, "covered": True, "coverage_note": "", "duplicates": duplicates}

    async def add_comment(self, *, contact: str, number: str, text: str) -> Dict[str, Any]:
        self._check()
        ticket = self.tickets.get(number)
        if ticket is None or ticket["customer"] != CONTACTS[contact][0]:
            raise BackendError(404, "ticket not found")
        self.comments.append({"number": number, "text": text})
        return {"event": {"kind": "customer_message", "text": text}}


def _classify(body: Dict[str, Any]) -> tuple[int, str]:
    facts = body.get("facts") or {}
    if facts.get("production_down"):
        priority = 2 if facts.get("solution_available") else 1
    elif facts.get("severely_damaged"):
        priority = 3 if facts.get("solution_available") else 2
    elif facts.get("damaged") or facts.get("most_operations_proceed") is False:
        priority = 3
    else:
        priority = 4
    kind = body.get("type")
    if priority == 1 or (priority == 2 and kind in ("network_outage", "hardware_failure")):
        tier = "L3"
    elif kind in ("software_bug", "enhancement"):
        tier = "L2"
    else:
        tier = "L1"
    return priority, tier
