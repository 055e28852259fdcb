"""Transports translate between the outside world and the services; no SQL here."""
