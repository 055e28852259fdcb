from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from promptlink.services.errors import Unauthorized
from promptlink.services.identity import (
    issue_resume_token,
    issue_widget_token,
    resume_token_conversation,
    verify_widget_token,
)

SECRET = "test-widget-secret-0123456789-abcdefghij"


async def test_a_signed_token_names_the_contact_and_its_customer(seeded) -> None:
    token = issue_widget_token(secret=SECRET, email="ana.gomez@cableandina.example", customer="CABLEANDINA", name="Ana")
    async with seeded() as session:
        identity = await verify_widget_token(session=session, secret=SECRET, token=token)
    assert identity.email == "ana.gomez@cableandina.example"
    assert identity.customer_code == "CABLEANDINA"
    assert identity.customer_name == "Cable Andina S.A."
    assert identity.name == "Ana Gómez"  # the stored name, not the token's claim


@pytest.mark.parametrize(
    ("secret", "email", "customer", "ttl", "public"),
    [
        (
            "another-secret-0123456789-abcdefghijklmn",
            "ana.gomez@cableandina.example",
            "CABLEANDINA",
            timedelta(hours=1),
            "no es válida",
        ),
        (SECRET, "ana.gomez@cableandina.example", "CABLEANDINA", timedelta(seconds=-5), "ha caducado"),
        (SECRET, "nobody@cableandina.example", "CABLEANDINA", timedelta(hours=1), "No encontramos"),
        # A contact of one customer cannot claim another customer.
        (SECRET, "ana.gomez@cableandina.example", "TELECARIBE", timedelta(hours=1), "No encontramos"),
    ],
)
async def test_bad_tokens_are_refused_with_a_spanish_reason(seeded, secret, email, customer, ttl, public) -> None:
    token = issue_widget_token(secret=secret, email=email, customer=customer, name="x", ttl=ttl)
    async with seeded() as session:
        with pytest.raises(Unauthorized) as caught:
            await verify_widget_token(session=session, secret=SECRET, token=token)
    assert public in caught.value.public


async def test_a_token_without_customer_claim_is_refused(seeded) -> None:
    token = jwt.encode({"sub": "ana.gomez@cableandina.example"}, SECRET, algorithm="HS256")
    async with seeded() as session:
        with pytest.raises(Unauthorized):
            await verify_widget_token(session=session, secret=SECRET, token=token)


def test_resume_tokens_grant_only_their_conversation() -> None:
    token = issue_resume_token(secret=SECRET, conversation_id="c-1")
    assert resume_token_conversation(secret=SECRET, token=token) == "c-1"
    assert resume_token_conversation(secret="other-secret-0123456789-abcdefghijklmnop", token=token) is None
    assert resume_token_conversation(secret=SECRET, token="garbage") is None
    widget = issue_widget_token(secret=SECRET, email="a@b.example", customer="X", name="A")
    assert resume_token_conversation(secret=SECRET, token=widget) is None


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "ana.gomez@cableandina.example", "customer": "CABLEANDINA"},  # no `exp`: never expired before #13
        {"sub": "ana.gomez@cableandina.example", "customer": "CABLEANDINA", "exp": 10**20},
        {"sub": "ana.gomez@cableandina.example", "customer": "CABLEANDINA", "exp": 1e300},
    ],
    ids=["no-exp", "exp-far-ahead", "exp-huge-float"],
)
async def test_an_identity_must_expire_within_the_allowed_lifetime(seeded, claims) -> None:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    async with seeded() as session:
        with pytest.raises(Unauthorized) as caught:
            await verify_widget_token(session=session, secret=SECRET, token=token)
    assert "no es válida" in caught.value.public


async def test_the_allowed_lifetime_is_a_parameter(seeded) -> None:
    token = issue_widget_token(
        secret=SECRET, email="ana.gomez@cableandina.example", customer="CABLEANDINA", name="Ana", ttl=timedelta(hours=3)
    )
    async with seeded() as session:
        assert (await verify_widget_token(session=session, secret=SECRET, token=token)).email.startswith("ana")
        with pytest.raises(Unauthorized):
            await verify_widget_token(session=session, secret=SECRET, token=token, max_lifetime=timedelta(hours=1))
