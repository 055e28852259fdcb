"""The simulator's own mechanics, without a running system: question recognition, date
placeholders, and the field checks of tickets and training requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.conversations.simulator import (
    Conversation,
    Result,
    check_since,
    check_ticket,
    check_training,
    expand,
    parse_conversation,
    question_key,
)

BOGOTA = ZoneInfo("America/Bogota")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Cuénteme qué ocurre exactamente.", "description"),
        ("Con gusto registro su caso. ¿De qué tipo de problema se trata?", "problem_kind"),
        ("¿Qué equipo o producto está afectado? (por ejemplo, el nombre del CMTS)", "device"),
        ("Gracias. ¿Desde cuándo ocurre?", "since"),
        ("¿Qué versión del software está usando?", "version"),
        ("¿Qué mensaje de error aparece? Cópielo tal como lo ve.", "error_message"),
        ("¿Cuál es el número de serie del equipo?", "serial_number"),
        ("¿La red o el sistema de producción están caídos?", "production_down"),
        ("¿La mayoría de las operaciones pueden seguir de manera aceptable?", "most_operations_proceed"),
        ("¿Tiene alguna solución provisional que le permita seguir operando?", "solution_available"),
        (
            "Voy a registrar su falla de red:\n• Desde cuándo: hoy 09:00\n• Equipo: cmts-bog-01\n¿Es correcto?",
            "confirm",
        ),
        ("¿Qué dato desea corregir?", "correct_field"),
        (
            "Ya existe el tiquete PL-2026-000001 abierto. ¿Desea que agregue esta información a ese tiquete?",
            "duplicate",
        ),
        ("Sigo sin entenderle. ¿Desea que le comunique con un especialista?", "offer_human"),
        ("¿Cuántas personas asistirán?", "attendees"),
        ("Son más de seis: un curso para 6 o dos cursos de 4. ¿Qué prefiere?", "training_split"),
        ("¿Para qué fecha desea el curso?", "training_date"),
        ("¿En qué sede se dará el curso?", "training_site"),
        ("¿Su sede cuenta con sala, proyector, pizarra y áreas de trabajo con acceso a Internet?", "facilities"),
        ("¿Qué le falta?", "facilities_missing"),
        (
            "Para continuar necesito verificar su identidad. ¿Cuál es el código de cliente de su empresa?",
            "customer_code",
        ),
        ("¿Cuál es su correo electrónico de contacto registrado?", "contact_email"),
        ("Escriba el código de verificación que recibió.", "otp_code"),
        ("Le informamos cada dos horas en Prioridad 1. ¿Desde cuándo ocurre?", "since"),
        ("Listo: registré su tiquete PL-2026-000001 con Prioridad 1.", None),
        ("CUÉNTEME QUÉ OCURRE", "description"),
    ],
)
def test_questions_are_recognised_by_the_contract_phrases(text: str, key: str | None) -> None:
    assert question_key(text) == key


def test_date_placeholders() -> None:
    today = date(2026, 12, 3)
    assert expand("el {fecha:+45}", today) == "el 17 de enero de 2027"
    assert expand("{dia:+1}", today) == "4 de diciembre"
    assert expand(["{iso:+45}"], today) == ["2027-01-17"]


def test_since_checks() -> None:
    began = datetime(2026, 12, 3, 20, 0, tzinfo=timezone.utc)  # 15:00 in Bogotá
    nine = datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc).isoformat()  # 09:00 in Bogotá
    assert check_since({"local_time": "09:00"}, nine, BOGOTA, began) is None
    assert check_since({"local_time": "16:00"}, nine, BOGOTA, began) is not None  # 16:00 is yesterday's
    assert check_since({"ago_minutes": 360, "tolerance": 10}, nine, BOGOTA, began) is None
    yesterday = (began - timedelta(days=1)).isoformat()
    assert check_since({"days_ago": 1}, yesterday, BOGOTA, began) is None
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc).isoformat()
    assert check_since({"weekday": "lunes"}, monday, BOGOTA, began) is None
    assert check_since({"weekday": "martes"}, monday, BOGOTA, began) is not None
    assert check_since({"local_time": "09:00"}, None, BOGOTA, began) is not None


def _conversation(ticket: dict[str, object]) -> Conversation:
    return parse_conversation(
        {"name": "x", "customer": "ana.gomez@cableandina.example", "opening": ["hola"], "expect": {"ticket": ticket}},
        theme="t",
        source="test",
    )


def test_ticket_fields_are_compared_one_by_one() -> None:
    expect = {
        "type": "software_bug",
        "priority": 3,
        "tier": "L2",
        "device": None,
        "device_text": "panel",
        "version": "4.2.1",
        "error_message": "NullPointer",
        "serial": "PLK-X-1",
        "facts": {"production_down": False},
        "rma": None,
        "bug": {"version": "4.2.1"},
        "related_ticket": "setup",
    }
    conv = _conversation(expect)
    result = Result("x", "t", conversation_id="c1")
    ticket = {
        "type": "software_bug",
        "priority": 3,
        "tier": "L2",
        "customer": "CABLEANDINA",
        "contact": "ana.gomez@cableandina.example",
        "conversation_id": "c1",
        "device": None,
        "device_text": "el Panel de gestión",
        "version": "v4.2.1",
        "error_message": "'NullPointerException en ReportService'",
        "serial": "plk-x-1",
        "facts": {"production_down": False, "solution_available": True},
        "rma": None,
        "bug": {"key": "BUG-1", "version": "4.2.1"},
        "related_ticket": "PL-2026-000001",
    }
    began = datetime.now(timezone.utc)
    args = (conv, BOGOTA, began, ["PL-2026-000001"], result)
    assert check_ticket(expect, ticket, *args) == []
    wrong = dict(ticket, priority=2, version="4.2", rma={"serial": "X"}, related_ticket=None, conversation_id="c2")
    problems = check_ticket(expect, wrong, *args)
    assert len(problems) == 5, problems


def test_training_requests_match_in_any_order() -> None:
    rows = [
        {"attendees": 3, "requested_date": "2027-01-10", "site": "Bogotá", "facilities": {}, "missing_facilities": []},
        {"attendees": 4, "requested_date": "2027-01-17", "site": "Bogotá", "facilities": {}, "missing_facilities": []},
    ]
    assert check_training([{"attendees": 4}, {"attendees": 3, "site": "bogotá"}], rows) == []
    assert check_training([{"attendees": 4}, {"attendees": 4}], rows)
    assert check_training([{"attendees": 4}], rows)
