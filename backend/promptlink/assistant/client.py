"""Client for the Rasa servers' `promptlink` input channel (see bot/channel.py).

Turns are spread over one or more Rasa servers (`PROMPTLINK_RASA_URLS` /
`PROMPTLINK_RASA_PROCESSES`). The servers share one tracker store and read a conversation's
tracker from it on every turn, so any server can take any turn: each goes to the server with
the fewest turns in flight from this backend (ties: the one sent fewer turns).
A conversation's turns never overlap: the chat gateway runs them one at a time. With several
backend processes, give Rasa a shared lock store (Redis, docs/assistant.md). A server that
cannot be reached is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from promptlink.infra import metrics

log = logging.getLogger(__name__)
SWAP_WAIT_SECONDS = 600.0
# How long new turns go to the other Rasa servers first after a server failed its status check
# (health checks come every 2 s from HAProxy: a server still loading a model stays avoided).
AVOID_SECONDS = 10.0


class AssistantUnavailable(Exception):
    """Rasa (or its action server) cannot answer; `component` names which."""

    def __init__(self, component: str, detail: str) -> None:
        super().__init__(f"{component}: {detail}")
        self.component = component
        self.detail = detail


class ModelsMixed(AssistantUnavailable):
    """A model load failed part-way and the servers already switched could not go back:
    the Rasa servers now run different models."""


@dataclass
class BotReply:
    text: str
    buttons: list[dict[str, str]] | None = None
    custom: dict[str, Any] | None = None


@dataclass
class BotTurn:
    """The assistant's answer to one message, with what it understood."""

    messages: list[BotReply] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    form: str | None = None  # the form whose question the bot waits on after this turn (Rasa's active loop)


class RasaClient:
    """Talks to Rasa through the custom channel and checks Rasa and action server health."""

    def __init__(
        self,
        *,
        rasa_urls: Sequence[str],
        rasa_token: str,
        channel_token: str,
        actions_url: str,
        timeout: float = 30.0,
    ) -> None:
        if not rasa_urls:
            raise ValueError("at least one Rasa server URL is needed")
        self.rasa_urls = [url.rstrip("/") for url in rasa_urls]
        self.rasa_url = self.rasa_urls[0]
        self.in_flight = dict.fromkeys(self.rasa_urls, 0)  # turns sent and not answered, per server
        self.sent = dict.fromkeys(self.rasa_urls, 0)  # turns sent, per server
        # Whether each server answered its last status check or turn (promptlink_rasa_servers_up).
        self.up = dict.fromkeys(self.rasa_urls, True)
        # Until when (monotonic) new turns go to the other servers first: the server's status check
        # failed. A Rasa server loading a model (another backend's activation) does not answer, and
        # a turn sent to it waits for the whole load; the health checks HAProxy makes every 2 s see
        # it and steer the next turns away, as the backend doing the swap holds its own (issue 16).
        self.avoid_until = dict.fromkeys(self.rasa_urls, 0.0)
        metrics.RASA_SERVERS.set(len(self.rasa_urls))
        self._mark_up()
        self.actions_url = actions_url.rstrip("/")
        self._rasa_token = rasa_token
        self._channel_token = channel_token
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))
        # Turns go through aiohttp: under 20 busy chats httpx was a third of the backend's CPU.
        self._turn_timeout = aiohttp.ClientTimeout(total=timeout, connect=3.0)
        self._turns: aiohttp.ClientSession | None = None  # made on first use, on the running loop
        # Cleared while this backend hot-loads a model into Rasa: turns wait for the swap
        # instead of timing out against a busy Rasa (docs/admin.md).
        self._not_swapping = asyncio.Event()
        self._not_swapping.set()

    async def close(self) -> None:
        await self._http.aclose()
        if self._turns is not None:
            await self._turns.close()

    def servers_for(self, sender: str) -> list[str]:
        """The Rasa servers to try for a turn of `sender`: fewest turns in flight first, then fewest sent.

        Ties after that keep the order of a stable hash of `sender`. (Breaking in-flight ties by the
        hash alone put more turns on one server: 20 conversations rarely split 10/10.) A server whose
        status check failed in the last `AVOID_SECONDS` comes after the others.
        """
        n = len(self.rasa_urls)
        first = zlib.crc32(sender.encode()) % n
        order = [self.rasa_urls[(first + k) % n] for k in range(n)]
        now = time.monotonic()
        # A server whose status check just failed goes last (still tried when the others cannot take the turn).
        return sorted(order, key=lambda url: (self.avoid_until[url] > now, self.in_flight[url], self.sent[url]))

    def _mark_up(self, base: str | None = None, up: bool = True) -> None:
        if base is not None:
            self.up[base] = up
        metrics.RASA_SERVERS_UP.set(sum(self.up.values()))

    @contextlib.contextmanager
    def counted(self, base: str) -> Iterator[None]:
        """Count a turn sent to server `base`: in flight while inside, and sent (what `servers_for` weighs)."""
        self.in_flight[base] += 1
        self.sent[base] += 1
        try:
            yield
        finally:
            self.in_flight[base] -= 1

    async def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> BotTurn:
        """Send a customer message; raise AssistantUnavailable when Rasa cannot answer."""
        try:
            await asyncio.wait_for(self._not_swapping.wait(), timeout=SWAP_WAIT_SECONDS)
        except TimeoutError as exc:
            raise AssistantUnavailable("rasa", "model swap takes too long") from exc
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                status, raw_body = await self._post_turn(self.servers_for(sender), sender, text, metadata)
            except (aiohttp.ClientError, TimeoutError) as exc:
                metrics.RASA_CALL_SECONDS.labels("error").observe(time.perf_counter() - started)
                raise AssistantUnavailable("rasa", f"{type(exc).__name__}: {exc}") from exc
            outcome = "ok" if status == 200 else "error"
            metrics.RASA_CALL_SECONDS.labels(outcome).observe(time.perf_counter() - started)
            # An administrator's model swap (PUT /model) can fail one request: retry it once.
            if attempt == 1 and (status == 409 or status >= 500):
                log.warning("rasa answered %s; retrying once", status)
                await asyncio.sleep(0.5)
                continue
            break
        if status != 200:
            raise AssistantUnavailable("rasa", f"HTTP {status}: {raw_body[:200].decode(errors='replace')}")
        try:
            body = json.loads(raw_body)
        except ValueError as exc:
            raise AssistantUnavailable("rasa", "answer is not JSON") from exc
        parse = body.get("parse") or {}
        intent = parse.get("intent") or {}
        turn = BotTurn(
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            entities=list(parse.get("entities") or []),
            form=str(body["active_loop"])[:64] if body.get("active_loop") else None,
        )
        for raw in body.get("messages") or []:
            text_out = raw.get("text") or ""
            buttons = [
                {"title": str(b.get("title", ""))[:200], "payload": str(b.get("payload", ""))[:500]}
                for b in raw.get("buttons") or []
            ] or None
            if text_out or buttons or raw.get("custom"):
                turn.messages.append(BotReply(text=text_out, buttons=buttons, custom=raw.get("custom")))
        return turn

    async def _post_turn(
        self, servers: list[str], sender: str, text: str, metadata: dict[str, Any]
    ) -> tuple[int, bytes]:
        """POST the message to the first server; to the next one only if it cannot take it.

        Only a refused connection or our channel's 503 (no model loaded, nothing taken) moves
        on: a server that accepted the message may still be handling it, and two servers must
        not run one turn of a conversation at once.
        """
        if self._turns is None:
            self._turns = aiohttp.ClientSession(timeout=self._turn_timeout)
        for k, base in enumerate(servers):
            last = k == len(servers) - 1
            try:
                with self.counted(base):
                    async with self._turns.post(
                        f"{base}/webhooks/promptlink/webhook",
                        json={"sender": sender, "message": text, "metadata": metadata},
                        headers={"Authorization": f"Bearer {self._channel_token}"},
                    ) as response:
                        status, body = response.status, await response.read()
            except aiohttp.ClientConnectorError as exc:
                self._mark_up(base, False)
                if last:
                    raise
                log.warning("rasa server %s unreachable (%s); the turn goes to %s", base, exc, servers[k + 1])
                continue
            self._mark_up(base, status != 503)
            if status != 503 or last:
                return status, body
            log.warning("rasa server %s has no model loaded yet; the turn goes to %s", base, servers[k + 1])
        raise AssertionError("unreachable")  # servers is never empty

    async def _ready(self, base: str, timeout: float) -> None:
        try:
            response = await self._http.get(f"{base}/status", params={"token": self._rasa_token}, timeout=timeout)
        except httpx.HTTPError as exc:
            self._mark_up(base, False)
            self.avoid_until[base] = time.monotonic() + AVOID_SECONDS
            raise AssistantUnavailable("rasa", f"{base}: {type(exc).__name__}: {exc}") from exc
        up = response.status_code == 200 and bool(response.json().get("model_file"))
        self._mark_up(base, up)
        self.avoid_until[base] = 0.0 if up else time.monotonic() + AVOID_SECONDS
        if not up:
            raise AssistantUnavailable("rasa", f"{base}: status HTTP {response.status_code}")

    async def rasa_ready(self, timeout: float = 3.0) -> None:
        """Raise unless every Rasa server is up with a model loaded (the message names those that are not);
        a server that does not answer within `timeout` (loading a model, frozen) counts as down."""
        results = await asyncio.gather(*(self._ready(base, timeout) for base in self.rasa_urls), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        for error in failed:
            if not isinstance(error, AssistantUnavailable):
                raise error
        if failed:
            up = len(self.rasa_urls) - len(failed)
            details = "; ".join(e.detail for e in failed if isinstance(e, AssistantUnavailable))
            raise AssistantUnavailable("rasa", f"{up} of {len(self.rasa_urls)} servers up; {details}")

    async def loaded_model(self) -> str:
        """The file name of the model Rasa runs (`GET /status`)."""
        try:
            response = await self._http.get(f"{self.rasa_url}/status", params={"token": self._rasa_token}, timeout=5.0)
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200 or not response.json().get("model_file"):
            raise AssistantUnavailable("rasa", f"status HTTP {response.status_code}")
        return str(response.json()["model_file"])

    async def load_model(self, path: str, previous: str | None = None) -> None:
        """Hot-load a model file into every Rasa server (`PUT /model`, in turn); chats keep their trackers.

        If a server fails, those already switched go back to `previous` (when given), so the
        servers never answer with different models; the error names what happened.
        """
        self._not_swapping.clear()
        loaded: list[str] = []
        try:
            for base in self.rasa_urls:
                try:
                    await self._put_model(base, path)
                except AssistantUnavailable as exc:
                    if not loaded:
                        raise
                    outcome, restored = await self._roll_back(loaded, previous)
                    error = AssistantUnavailable if restored else ModelsMixed
                    raise error(exc.component, f"{exc.detail}; {outcome}") from exc
                loaded.append(base)
        finally:
            self._not_swapping.set()

    async def _put_model(self, base: str, path: str) -> None:
        try:
            response = await self._http.put(
                f"{base}/model",
                params={"token": self._rasa_token},
                json={"model_file": path},
                timeout=httpx.Timeout(SWAP_WAIT_SECONDS, connect=3.0),
            )
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa", f"{base}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 204:
            raise AssistantUnavailable("rasa", f"{base}: model load HTTP {response.status_code}: {response.text[:300]}")

    async def _roll_back(self, loaded: list[str], previous: str | None) -> tuple[str, bool]:
        """Put `previous` back into the servers in `loaded`: a sentence on the outcome (for the
        log) and whether every one of them went back."""
        if previous is None:
            log.error("servers %s run the new model, the others the old one (no previous model known)", loaded)
            return f"no previous model to go back to on {', '.join(loaded)}", False
        failed = []
        for base in loaded:
            try:
                await self._put_model(base, previous)
            except AssistantUnavailable as exc:
                log.error("could not put the previous model back on %s: %s", base, exc.detail)
                failed.append(base)
        if failed:
            return f"previous model could not be put back on {', '.join(failed)}", False
        log.warning("model load failed part-way; %s went back to %s", loaded, previous)
        return f"{', '.join(loaded)} went back to the previous model", True

    async def actions_ready(self, timeout: float = 3.0) -> None:
        """Raise unless the action server answers its health check within `timeout`."""
        try:
            response = await self._http.get(f"{self.actions_url}/health", timeout=timeout)
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("actions", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise AssistantUnavailable("actions", f"health HTTP {response.status_code}")
