"""Promptlink Assist backend: tickets, conversations, agents and the chat gateway."""

__version__ = "0.1.0"
