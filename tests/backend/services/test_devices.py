"""A customer's devices, and what a customer means when it names one."""

from __future__ import annotations

import pytest
from promptlink.models import Device
from promptlink.services.devices import devices_of, match_device, squash
from promptlink.services.errors import NotFound

DEVICES = [
    Device(name="cmts-bog-01", serial="PLK-CMTS-0001", model="PL-CMTS 3200"),
    Device(name="cmts-bog-02", serial="PLK-CMTS-0002", model="PL-CMTS 3200"),
    Device(name="olt_sdq_01", serial="PLK-OLT-0101", model="PL-OLT 1600"),
]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("cmts-bog-01", "cmts-bog-01"),
        ("CMTS BOG 01", "cmts-bog-01"),
        ("  cmts bog-02 ", "cmts-bog-02"),
        ("CmtsBog02", "cmts-bog-02"),
        ("OLT-SDQ-01", "olt_sdq_01"),
        ("cmts-bog-03", None),
        ("cmts", None),  # a prefix is not a match: the assistant asks which one
        ("", None),
        (" - ", None),
    ],
)
def test_a_name_matches_without_case_spaces_hyphens_or_underscores(said: str, expected: str | None) -> None:
    found = match_device(DEVICES, said)
    assert (found.name if found else None) == expected


def test_squash() -> None:
    assert squash("CMTS  Bog-01_a") == "cmtsbog01a"


async def test_a_customers_devices_by_name_and_an_unknown_customer(seeded) -> None:
    async with seeded() as session:
        customer, devices = await devices_of(session=session, code="CABLEANDINA")
        assert customer.timezone == "America/Bogota"
        assert [(d.name, d.serial, d.model) for d in devices] == [
            ("cmts-bog-01", "PLK-CMTS-0001", "PL-CMTS 3200"),
            ("cmts-bog-02", "PLK-CMTS-0002", "PL-CMTS 3200"),
        ]
        with pytest.raises(NotFound):
            await devices_of(session=session, code="NADIE")
