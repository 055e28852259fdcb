"""Authentication against the real backend: login throttling, one generic login error, token
revocation (logout, password reset), widget identities that expire, forged agent tokens, and
the refusal of identical secrets at start (issue #13: F8, F11, F12, F13, F15).

The tests run on the shared `lone_backend` with its default limits, without disturbing the
other tests: distinct client addresses come from binding the client to other loopback
addresses (all of 127.0.0.0/8 reaches the server; the other tests use 127.0.0.1), and the
accounts that are locked, logged out or reset are made for this module.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import pytest
import socketio
from limits import parse_many
from promptlink.infra.settings import DEMO_SECRETS, Settings
from promptlink.services.errors import Unauthorized
from promptlink.services.login_throttle import LoginThrottle, TooManyAttempts
from promptlink.transports.http.schemas.auth import TooManyAttemptsOut

from testkit.processes import BACKEND_PY, ROOT, Running, base_env

PER_IP = parse_many(Settings.model_fields["login_rate_per_ip"].default)[0].amount  # 5 per 5 minutes
PER_ACCOUNT = parse_many(Settings.model_fields["login_rate_per_account"].default)[0].amount  # 10 per 15 minutes
WIDGET_SECRET = "demo-widget-secret"
SESSION_SECRET = "demo-session-secret-not-for-production"
GENERIC = "Correo o contraseña incorrectos."
ANA = ("ana.gomez@cableandina.example", "CABLEANDINA")

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the demo widget secret

_next_ip = iter(range(2, 255))


def fresh_ip() -> str:
    """A loopback address no other test has used (its own per-address budget)."""
    return f"127.0.0.{next(_next_ip)}"


def login(backend: Running, ip: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=ip), timeout=30) as client:
        return client.post(f"{backend.base_url}/api/v1/auth/login", json={"email": email, "password": password})


def me(backend: Running, token: str, *, cookie: bool = False) -> httpx.Response:
    if cookie:
        return httpx.get(f"{backend.base_url}/api/v1/auth/me", cookies={"pl_session": token}, timeout=10)
    return httpx.get(f"{backend.base_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture(scope="module")
def new_agent(lone_backend: Running, auth_headers: dict[str, dict[str, str]]) -> Callable[[], tuple[str, str, int]]:
    """Makes an L1 agent of this module (e-mail, password, id) through the admin API."""

    def make() -> tuple[str, str, int]:
        email, password = f"auth.{uuid.uuid4().hex[:8]}@promptlink.example", "clave-" + uuid.uuid4().hex[:12]
        created = httpx.post(
            f"{lone_backend.base_url}/api/v1/admin/users",
            headers=auth_headers["admin"],
            json={"email": email, "name": "Agente de prueba", "role": "agent", "tiers": ["L1"], "password": password},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        return email, password, int(created.json()["id"])

    return make


# --- F8: throttling per IP and per account, one generic error ---------------------------


def test_failed_logins_per_ip_are_throttled_with_a_spanish_429(lone_backend: Running, new_agent) -> None:
    email, password, _ = new_agent()
    ip = fresh_ip()
    for k in range(PER_IP):
        failed = login(lone_backend, ip, f"nobody{k}@promptlink.example", "wrong-password")
        assert failed.status_code == 401, failed.text
    blocked = login(lone_backend, ip, email, password)  # even the right password
    assert blocked.status_code == 429, blocked.text
    assert blocked.json()["message"].startswith("Demasiados intentos")
    assert 0 < int(blocked.headers["Retry-After"]) <= 300 and blocked.json()["retry_after"] > 0
    TooManyAttemptsOut.model_validate(blocked.json())  # as the OpenAPI document says
    assert "pl_session" not in blocked.headers.get("set-cookie", "")
    # Another address is not locked out by this one.
    assert login(lone_backend, fresh_ip(), email, password).status_code == 200


def test_parallel_failed_logins_from_one_ip_stop_at_the_limit(lone_backend: Running) -> None:
    ip, attempts = fresh_ip(), PER_IP + 4
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        answers = list(pool.map(lambda k: login(lone_backend, ip, f"ghost{k}@x.example", "nope"), range(attempts)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [401] * PER_IP + [429] * (attempts - PER_IP), codes


def test_failed_logins_per_account_lock_the_account_from_any_ip(lone_backend: Running, new_agent) -> None:
    email, password, _ = new_agent()
    for _ in range(PER_ACCOUNT):  # one failure per address: no per-address limit is reached
        assert login(lone_backend, fresh_ip(), email, "guess-" + uuid.uuid4().hex).status_code == 401
    ip = fresh_ip()
    locked = login(lone_backend, ip, f" {email.upper()} ", password)  # the same account, spelt otherwise
    assert locked.status_code == 429 and locked.json()["message"].startswith("Demasiados intentos"), locked.text
    assert int(locked.headers["Retry-After"]) > 0
    # That address may still log another account in.
    other, other_password, _ = new_agent()
    assert login(lone_backend, ip, other, other_password).status_code == 200


def test_unknown_account_and_wrong_password_answer_alike(lone_backend: Running, new_agent) -> None:
    email, _, _ = new_agent()

    def timed(who: str) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = login(lone_backend, fresh_ip(), who, "not-the-password")
        return response, time.perf_counter() - started

    wrong = [timed(email) for _ in range(3)]
    unknown = [timed(f"nadie.{uuid.uuid4().hex[:6]}@promptlink.example") for _ in range(3)]
    bodies = {(r.status_code, r.json()["detail"], r.json()["message"]) for r, _ in wrong + unknown}
    assert bodies == {(401, "invalid credentials", GENERIC)}
    # An unknown account still costs a password hash: no fast answer tells it apart.
    assert min(t for _, t in unknown) > 0.3 * min(t for _, t in wrong)


async def test_login_counters_are_shared_through_redis() -> None:
    """Two backend processes of one deployment (two throttles on one Redis) share the counts."""
    namespace = f"test-auth-{uuid.uuid4().hex[:8]}"
    one, two = (
        LoginThrottle(
            per_ip="2/minute", per_account="9/minute", redis_url="redis://127.0.0.1:6379/0", namespace=namespace
        )
        for _ in range(2)
    )

    async def refused() -> None:
        raise Unauthorized("invalid credentials", public=GENERIC)

    for throttle in (one, two):
        with pytest.raises(Unauthorized):
            await throttle.run(address="192.0.2.7", email="x@promptlink.example", attempt=refused)
    with pytest.raises(TooManyAttempts) as caught:
        await one.run(address="192.0.2.7", email="y@promptlink.example", attempt=refused)
    assert 0 < caught.value.retry_after <= 60
    # IPv6 clients count per /64 network, not per address.
    for host in ("2001:db8::1", "2001:db8::2"):
        with pytest.raises(Unauthorized):
            await two.run(address=host, email=None, attempt=refused)
    with pytest.raises(TooManyAttempts):
        await one.run(address="2001:db8::ffff", email=None, attempt=refused)


# --- F11: logout and password reset revoke tokens ---------------------------------------


def socket_accepts(backend: Running, namespace: str, auth: dict[str, str]) -> bool:
    """Whether the backend accepts a socket.io connection to `namespace` with `auth`."""

    async def attempt() -> bool:
        sio = socketio.AsyncClient(reconnection=False)
        try:
            await sio.connect(
                backend.base_url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=10
            )
        except socketio.exceptions.ConnectionError:
            return False
        await sio.disconnect()
        return True

    return asyncio.run(attempt())


def test_logout_revokes_the_token_for_bearer_cookie_and_socket(lone_backend: Running, new_agent) -> None:
    email, password, _ = new_agent()
    token = login(lone_backend, fresh_ip(), email, password).json()["token"]
    assert me(lone_backend, token).status_code == 200 and me(lone_backend, token, cookie=True).status_code == 200
    # The console logs out with its cookie only.
    out = httpx.post(f"{lone_backend.base_url}/api/v1/auth/logout", cookies={"pl_session": token}, json={}, timeout=10)
    assert out.status_code == 200 and 'pl_session=""' in out.headers["set-cookie"]
    assert 'pl_signed_in=""' in out.headers["set-cookie"]  # the pages' hint goes with it
    for cookie in (False, True):
        gone = me(lone_backend, token, cookie=cookie)
        assert gone.status_code == 401 and gone.json()["message"].startswith("Su sesión ha terminado"), gone.text
    assert not socket_accepts(lone_backend, "/agent", {"token": token})
    # A new login works; a bearer logout revokes that one too; logging out again is harmless.
    again = login(lone_backend, fresh_ip(), email, password).json()["token"]
    assert me(lone_backend, again).status_code == 200 and socket_accepts(lone_backend, "/agent", {"token": again})
    headers = {"Authorization": f"Bearer {again}"}
    assert httpx.post(f"{lone_backend.base_url}/api/v1/auth/logout", headers=headers, timeout=10).status_code == 200
    assert me(lone_backend, again).status_code == 401
    assert httpx.post(f"{lone_backend.base_url}/api/v1/auth/logout", headers=headers, timeout=10).status_code == 200


def test_an_open_console_socket_is_closed_by_logout_and_by_a_password_reset(
    lone_backend: Running, auth_headers, new_agent
) -> None:
    email, password, agent_id = new_agent()

    async def open_socket(token: str) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(
            lone_backend.base_url, namespaces=["/agent"], auth={"token": token}, transports=["websocket"]
        )
        return sio

    async def closed_within(sio: socketio.AsyncClient, seconds: float) -> bool:
        for _ in range(int(seconds * 10)):
            if not sio.namespaces:
                return True
            await asyncio.sleep(0.1)
        return False

    async def scenario() -> tuple[bool, bool, object]:
        token = login(lone_backend, fresh_ip(), email, password).json()["token"]
        sio = await open_socket(token)
        await asyncio.to_thread(
            httpx.post, f"{lone_backend.base_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        by_logout = await closed_within(sio, 5)
        await sio.disconnect()
        # A reset by an administrator: the socket's next event finds its login revoked and is closed.
        token = login(lone_backend, fresh_ip(), email, password).json()["token"]
        sio = await open_socket(token)
        reset = await asyncio.to_thread(
            httpx.post,
            f"{lone_backend.base_url}/api/v1/admin/users/{agent_id}/password",
            headers=auth_headers["admin"],
            json={"password": "clave-nueva-33"},
        )
        assert reset.status_code == 200, reset.text
        answer: object = None
        try:
            answer = await sio.call("presence", "online", namespace="/agent", timeout=5)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            pass  # closed before it could answer
        by_reset = await closed_within(sio, 5)
        await sio.disconnect()
        return by_logout, by_reset, answer

    by_logout, by_reset, answer = asyncio.run(scenario())
    assert by_logout, "the open console socket survived the logout"
    assert by_reset, f"the open console socket survived the password reset (presence answered {answer!r})"


def test_a_password_reset_revokes_the_accounts_tokens(lone_backend: Running, auth_headers, new_agent) -> None:
    email, password, agent_id = new_agent()
    old = login(lone_backend, fresh_ip(), email, password).json()["token"]
    assert me(lone_backend, old).status_code == 200
    reset = httpx.post(
        f"{lone_backend.base_url}/api/v1/admin/users/{agent_id}/password",
        headers=auth_headers["admin"],
        json={"password": "clave-nueva-22"},
        timeout=10,
    )
    assert reset.status_code == 200, reset.text
    assert me(lone_backend, old).status_code == 401
    assert login(lone_backend, fresh_ip(), email, password).status_code == 401
    new = login(lone_backend, fresh_ip(), email, "clave-nueva-22").json()["token"]
    assert me(lone_backend, new).json()["email"] == email
    assert me(lone_backend, auth_headers["admin"]["Authorization"][7:]).status_code == 200  # others keep theirs


# --- F12: widget identities must expire, within a bounded lifetime ----------------------


def widget(claims: dict[str, object]) -> str:
    return jwt.encode(claims, WIDGET_SECRET, algorithm="HS256")


@pytest.mark.parametrize("lifetime", [None, 30 * 24 * 3600], ids=["no-exp", "exp-in-30-days"])
def test_a_widget_identity_without_a_bounded_exp_is_refused(lone_backend: Running, lifetime: int | None) -> None:
    claims: dict[str, object] = {"sub": ANA[0], "customer": ANA[1], "name": "Ana"}
    if lifetime is not None:
        claims["exp"] = int(time.time()) + lifetime
    token = widget(claims)
    refused = me(lone_backend, token)
    assert refused.status_code == 401 and "Recargue la página" in refused.json()["message"], refused.text
    assert not socket_accepts(lone_backend, "/chat", {"identity": token})


def test_a_widget_identity_with_a_short_exp_still_works(lone_backend: Running) -> None:
    token = widget({"sub": ANA[0], "customer": ANA[1], "name": "Ana", "exp": int(time.time()) + 3600})
    assert me(lone_backend, token).json()["email"] == ANA[0]
    assert socket_accepts(lone_backend, "/chat", {"identity": token})
    demo = httpx.post(f"{lone_backend.base_url}/demo/identity", json={"contact": ANA[0]}, timeout=10).json()["token"]
    assert me(lone_backend, demo).json()["role"] == "customer"  # the demo page's identity keeps working


# --- F13: a correctly signed agent token with a bad `sub` -------------------------------


@pytest.mark.parametrize("sub", ["abc", "1e3", "99999999999999999999", "", "-1", None, 7], ids=repr)
def test_a_signed_agent_token_with_a_bad_sub_is_a_401(lone_backend: Running, sub: object) -> None:
    claims: dict[str, object] = {"typ": "agent", "role": "admin", "ver": 0, "exp": int(time.time()) + 600}
    if sub is not None:
        claims["sub"] = sub
    token = jwt.encode(claims, SESSION_SECRET, algorithm="HS256")
    for cookie in (False, True):
        answer = me(lone_backend, token, cookie=cookie)
        assert answer.status_code == 401, answer.text
        assert answer.json()["message"]


# --- F15: the secrets must differ -------------------------------------------------------


def test_the_backend_refuses_to_start_with_identical_secrets(tmp_path: Path) -> None:
    """Outside demo mode (demo mode and every pair: tests/backend/infra/test_settings.py)."""
    same = "one-long-random-value-used-twice-0123456789"
    env = base_env(tmp_path, PROMPTLINK_DEMO="0", PROMPTLINK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    for index, name in enumerate(DEMO_SECRETS):
        env[f"PROMPTLINK_{name.upper()}"] = f"another-long-random-value-{index}-0123456789abcdef"
    env["PROMPTLINK_WIDGET_SECRET"] = env["PROMPTLINK_SESSION_SECRET"] = same
    started = subprocess.run(
        [str(BACKEND_PY), "-m", "promptlink", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 2, started.stderr[-2000:]
    assert "PROMPTLINK_WIDGET_SECRET and PROMPTLINK_SESSION_SECRET have the same value" in started.stderr
    assert not (tmp_path / "x.db").exists()  # refused before touching anything
