"""What a customer's contracts cover (docs/support-plan.md#contracts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from promptlink.models import Contract, Customer


@dataclass(frozen=True)
class Entitlement:
    software: bool
    hardware: bool

    def covers(self, ticket_type: str) -> tuple[bool, str]:
        """Whether a request of this type is covered, and a plain Spanish statement when not."""
        if not self.software:
            return False, (
                "La empresa no tiene un contrato vigente de soporte y mantenimiento de software: "
                "la solicitud queda registrada y un especialista le indicará las opciones."
            )
        if ticket_type == "hardware_failure" and not self.hardware:
            return False, (
                "La empresa no tiene un contrato de soporte de hardware: la sustitución del equipo "
                "no está cubierta. La solicitud queda registrada y Nivel 1 preparará una cotización."
            )
        return True, ""


NO_CUSTOMER = Entitlement(software=False, hardware=False)


def entitlement_for(customer: Customer | None, *, on: date) -> Entitlement:
    """The contracts of `customer` in force on `on`."""
    if customer is None:
        return NO_CUSTOMER
    active: list[Contract] = [c for c in customer.contracts if c.covers(on)]
    kinds = {c.kind for c in active}
    return Entitlement(software="software" in kinds, hardware="hardware" in kinds)
