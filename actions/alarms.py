"""«¿Qué pasa con mi red?»: the open alarms our monitoring has on the customer's equipment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Dict, Optional

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend import OPEN_ALARMS_LIMIT, backend
from .responses import response_text
from .spanish import datetime_in_words, parse_datetime, plural, zone

MAX_LINES = 5
# How the backend writes `last_seen_local` (the customer's wall clock).
LOCAL_FORMAT = "%d/%m/%Y %H:%M"


async def answer_network_alarms(
    dispatcher: CollectingDispatcher, domain: DomainDict, contact: str, *, now: Optional[datetime] = None
) -> None:
    """Tell the identified contact its company's open alarms (called once identity is known).

    One message: the intro and one «• » line per alarm (the widget shows them as a list in one
    bubble), a flapping alarm's note on its own line's end.
    """
    alarms = await backend().open_alarms(contact=contact)
    if not alarms:
        dispatcher.utter_message(response="utter_no_open_alarms")
        return
    now = now or datetime.now(timezone.utc)
    shown = alarms[:MAX_LINES]
    if len(alarms) >= OPEN_ALARMS_LIMIT:
        # The backend stopped at its limit: there may be more than it sent.
        count = f"{len(alarms)} o más alarmas abiertas"
    else:
        count = plural(len(alarms), "alarma abierta", "alarmas abiertas")
    lines = "\n".join(_alarm_line(domain, alarm, now=now) for alarm in shown)
    if len(shown) < len(alarms):
        # The backend sends the most urgent first (priority, then the newest).
        dispatcher.utter_message(response="utter_open_alarms_intro_cut", alarms=count, shown=len(shown), lines=lines)
    else:
        dispatcher.utter_message(response="utter_open_alarms_intro", alarms=count, lines=lines)


def _alarm_line(domain: DomainDict, alarm: Dict[str, Any], *, now: datetime) -> str:
    ticket = alarm.get("ticket")
    line = response_text(
        domain,
        "utter_open_alarm_line" if ticket else "utter_open_alarm_line_no_ticket",
        title=alarm["title"],
        device=alarm.get("device") or alarm.get("source_address") or "sin nombre",
        priority=alarm["priority"],
        ticket=ticket,
        notices=plural(int(alarm.get("count") or 1), "aviso", "avisos"),
        last_seen=last_seen_in_words(alarm, now=now),
    )
    if alarm.get("flapping"):
        flapping = "utter_open_alarm_flapping" if ticket else "utter_open_alarm_flapping_no_ticket"
        line += " " + response_text(domain, flapping, title=alarm["title"], ticket=ticket)
    return line


def customer_zone(alarm: Dict[str, Any]) -> tzinfo:
    """The customer's time zone for this alarm.

    The alarm JSON carries the instant (`last_seen`, UTC) and the customer's wall clock for it
    (`last_seen_local`) but not the zone's name, so the offset between the two is the zone at
    that moment. A `timezone` field, if the backend adds one, wins.
    """
    named = alarm.get("timezone")
    if isinstance(named, str) and named:
        return zone(named)
    instant = parse_datetime(alarm.get("last_seen"))
    local = alarm.get("last_seen_local")
    if instant is None or not isinstance(local, str):
        return timezone.utc
    try:
        wall = datetime.strptime(local.strip(), LOCAL_FORMAT)
    except ValueError:
        return timezone.utc
    utc_wall = instant.astimezone(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    offset = wall - utc_wall
    if abs(offset) > timedelta(hours=14):
        return timezone.utc
    return timezone(offset)


def last_seen_in_words(alarm: Dict[str, Any], *, now: datetime) -> str:
    """«hoy a las 18:29», «el miércoles 25 de noviembre a las 18:29», in the customer's time zone."""
    instant = parse_datetime(alarm.get("last_seen"))
    if instant is None:
        return str(alarm.get("last_seen_local") or "hace poco")
    return datetime_in_words(instant, customer_zone(alarm), now)
