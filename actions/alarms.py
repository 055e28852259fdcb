"""«¿Qué pasa con mi red?»: the open alarms our monitoring has on the customer's equipment."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from .backend import backend

MAX_LINES = 5


async def answer_network_alarms(dispatcher: CollectingDispatcher, contact: str) -> None:
    """Tell the identified contact its company's open alarms (called once identity is known)."""
    alarms = await backend().open_alarms(contact=contact)
    if not alarms:
        dispatcher.utter_message(response="utter_no_open_alarms")
        return
    dispatcher.utter_message(response="utter_open_alarms_intro", count=len(alarms))
    for alarm in alarms[:MAX_LINES]:
        dispatcher.utter_message(
            response="utter_open_alarm_line",
            title=alarm["title"],
            device=alarm.get("device") or alarm.get("source_address") or "",
            priority=alarm["priority"],
            ticket=alarm.get("ticket") or "—",
            count=alarm["count"],
            last_seen=alarm.get("last_seen_local") or alarm["last_seen"],
        )
        if alarm.get("flapping"):
            dispatcher.utter_message(
                response="utter_open_alarm_flapping", title=alarm["title"], ticket=alarm.get("ticket") or "—"
            )
