"""Typed domain errors. `public` is the Spanish sentence a customer or agent may read."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400

    def __init__(self, detail: str, *, public: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.public = public

    def fields(self) -> dict[str, Any]:
        """Extra machine-readable fields of the error's HTTP body (e.g. `attempts_left`)."""
        return {}


class NotFound(DomainError):
    status = 404


class InvalidInput(DomainError):
    status = 422


class Unauthorized(DomainError):
    status = 401
