"""Canned responses of the agent console, per tier, from rules/canned_responses.yml.

Reloaded when the file changes (like the SNMP rules, `trap_rules.RulesFile`): a broken edit
is logged and the previous responses stay. Placeholders: {nombre} (the customer's contact
name) and {tiquete} (the ticket number); the console fills them for the open conversation.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptlink.services.auth import Principal
from promptlink.services.yaml_files import read_yaml
from promptlink.vocabulary import TIERS

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "rules" / "canned_responses.yml"
COMMON = "common"
PLACEHOLDERS = ("nombre", "tiquete")
MAX_TEXT = 2000
MAX_TITLE = 80
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class CannedError(ValueError):
    """The file does not describe canned responses."""


@dataclass(frozen=True)
class CannedResponse:
    key: str
    title: str
    text: str
    tiers: tuple[str, ...]  # `common` or tiers

    def visible_to(self, principal: Principal) -> bool:
        if principal.sees_all_tiers or COMMON in self.tiers:
            return True
        return principal.role == "agent" and any(t in principal.tiers for t in self.tiers)


def parse(raw: Any) -> tuple[CannedResponse, ...]:
    if not isinstance(raw, dict) or not isinstance(raw.get("responses"), list):
        raise CannedError("`responses` must be a list")
    found: list[CannedResponse] = []
    for n, item in enumerate(raw["responses"], 1):
        if not isinstance(item, dict):
            raise CannedError(f"response {n} must be a mapping")
        key, title, text, tiers = item.get("key"), item.get("title"), item.get("text"), item.get("tiers")
        if not isinstance(key, str) or not _KEY.match(key) or any(r.key == key for r in found):
            raise CannedError(f"response {n}: `key` must be a unique slug (a-z, 0-9, -)")
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise CannedError(f"{key}: `title` must be 1-{MAX_TITLE} characters")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise CannedError(f"{key}: `text` must be 1-{MAX_TEXT} characters")
        unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(PLACEHOLDERS))
        if unknown:
            raise CannedError(f"{key}: unknown placeholders {unknown} (only {{nombre}} and {{tiquete}})")
        if not isinstance(tiers, list) or not tiers or any(t not in (COMMON, *TIERS) for t in tiers):
            raise CannedError(f"{key}: `tiers` must list common, L1, L2 or L3")
        found.append(CannedResponse(key=key, title=title.strip(), text=text.strip(), tiers=tuple(tiers)))
    return tuple(found)


class CannedFile:
    """The responses of one YAML file, re-read when its modification time changes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or DEFAULT_FILE
        self._mtime: int | None = None
        self._lock = threading.Lock()
        self.responses: tuple[CannedResponse, ...] = ()
        self.reload()

    def reload(self) -> tuple[CannedResponse, ...]:
        """Read the file now; a broken file raises CannedError (or OSError) and the previous responses stay."""
        raw, mtime = read_yaml(self.path, CannedError)
        self.responses = parse(raw)
        self._mtime = mtime
        return self.responses

    def current(self) -> tuple[CannedResponse, ...]:
        """The responses, reloaded first if the file changed."""
        with self._lock:
            try:
                mtime = os.stat(self.path).st_mtime_ns
                if mtime != self._mtime:
                    self._mtime = mtime  # one log line per broken edit
                    self.reload()
                    log.info("canned responses reloaded", extra={"responses": len(self.responses)})
            except (OSError, CannedError) as exc:
                log.error("canned responses not reloaded; the previous ones stay", extra={"error": str(exc)})
        return self.responses

    def for_principal(self, principal: Principal) -> list[CannedResponse]:
        """The caller's: the common ones and those of the tiers it works (supervisors and admins: all)."""
        return [r for r in self.current() if r.visible_to(principal)]
