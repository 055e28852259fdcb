"""The four priority definitions (docs/support-plan.md#priorities) and the routing rules, table-driven."""

from __future__ import annotations

import pytest
from promptlink.services.errors import InvalidInput
from promptlink.services.ticket_rules import IncidentFacts, classify_priority, route_ticket

# (facts, expected priority, a phrase of the plan's definition the reason must carry)
PRIORITY_TABLE = [
    # P1: production fails, critical impact, no solution available.
    ({"production_down": True}, 1, "fallan"),
    ({"production_down": True, "most_operations_proceed": False}, 1, "solución no está disponible"),
    # Down but a workaround exists: significant impact, not P1.
    ({"production_down": True, "solution_available": True}, 2, "solución provisional"),
    # P2: severely damaged, significant impact, no solution.
    ({"severely_damaged": True}, 2, "gravemente dañados"),
    ({"severely_damaged": True, "solution_available": True}, 3, "mayoría de las operaciones"),
    # P3: damaged, deficient but most operations proceed acceptably.
    ({"damaged": True}, 3, "funcionalidad está deficiente"),
    ({"damaged": True, "solution_available": True}, 3, "dañados"),
    ({"most_operations_proceed": False}, 3, "deficiente"),
    # P4: works normally, information or assistance to install, configure or operate.
    ({"information_request": True}, 4, "funcionan normalmente"),
    ({}, 4, "información o asistencia"),
]


@pytest.mark.parametrize(("facts", "priority", "phrase"), PRIORITY_TABLE)
def test_priority_follows_the_seed_definitions(facts, priority, phrase) -> None:
    decision = classify_priority(IncidentFacts.from_dict(facts))
    assert decision.priority == priority
    assert decision.reason.startswith(f"Prioridad {priority}:")
    assert phrase in decision.reason


# (type, priority, complex, hardware contract) -> (tier, rule, bug, rma, quote)
ROUTING_TABLE = [
    # Level 1: general problems, configuration and operation help, information.
    ("information", 4, False, True, ("L1", "general", False, False, False)),
    ("configuration", 4, False, True, ("L1", "general", False, False, False)),
    ("configuration", 2, False, True, ("L1", "general", False, False, False)),
    ("network_outage", 3, False, True, ("L1", "general", False, False, False)),
    ("network_outage", 4, False, True, ("L1", "general", False, False, False)),
    # Level 2: software faults (at P2 too), enhancements, special developments.
    ("software_bug", 3, False, True, ("L2", "software_fault", True, False, False)),
    ("software_bug", 2, False, True, ("L2", "software_fault", True, False, False)),
    ("enhancement", 4, False, True, ("L2", "development", False, False, False)),
    ("special_development", 4, False, False, ("L2", "development", False, False, False)),
    # Level 3: any P1; an outage or a hardware failure that stops or severely damages operation (P2);
    # the most complex problems.
    ("network_outage", 1, False, True, ("L3", "critical", False, False, False)),
    ("software_bug", 1, False, True, ("L3", "critical", True, False, False)),
    ("information", 1, False, True, ("L3", "critical", False, False, False)),
    ("network_outage", 2, False, True, ("L3", "severe_network_outage", False, False, False)),
    ("hardware_failure", 1, False, True, ("L3", "critical", False, True, False)),
    ("hardware_failure", 2, False, True, ("L3", "severe_hardware_failure", False, True, False)),
    ("hardware_failure", 2, False, False, ("L3", "severe_hardware_failure", False, False, True)),
    ("configuration", 3, True, True, ("L3", "complex", False, False, False)),
    ("software_bug", 2, True, True, ("L3", "complex", True, False, False)),
    # Hardware at P3/P4: replacement logistics for Level 1, a rule of its own (not «general»).
    ("hardware_failure", 3, False, True, ("L1", "hardware_replacement", False, True, False)),
    ("hardware_failure", 4, False, False, ("L1", "hardware_replacement", False, False, True)),
]


@pytest.mark.parametrize(("ticket_type", "priority", "complex_case", "hardware", "expected"), ROUTING_TABLE)
def test_routing_follows_the_seed(ticket_type, priority, complex_case, hardware, expected) -> None:
    decision = route_ticket(
        ticket_type=ticket_type, priority=priority, complex_case=complex_case, hardware_covered=hardware
    )
    assert (decision.tier, decision.rule, decision.open_bug, decision.rma, decision.quote_request) == expected
    assert f"Nivel {decision.tier[-1]}" in decision.reason  # the Spanish reason names the level


@pytest.mark.parametrize(
    ("ticket_type", "phrase"),
    [("network_outage", "Caída de red"), ("hardware_failure", "Falla de hardware que detiene")],
)
def test_a_severe_outage_or_hardware_failure_says_why_it_goes_to_level_3(ticket_type, phrase) -> None:
    decision = route_ticket(ticket_type=ticket_type, priority=2, complex_case=False, hardware_covered=True)
    assert decision.reason.startswith(phrase) and "Prioridad 2" in decision.reason


def test_hardware_logistics_has_its_own_spanish_reason() -> None:
    decision = route_ticket(ticket_type="hardware_failure", priority=4, complex_case=False, hardware_covered=True)
    assert decision.rule == "hardware_replacement"
    assert "logística de reemplazo" in decision.reason and "general" not in decision.reason


@pytest.mark.parametrize("raw", [{"production_down": "yes"}, {"unknown_fact": True}, ["production_down"]])
def test_malformed_facts_are_refused(raw) -> None:
    with pytest.raises(InvalidInput):
        IncidentFacts.from_dict(raw)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(InvalidInput):
        route_ticket(ticket_type="coffee", priority=4, complex_case=False, hardware_covered=False)
