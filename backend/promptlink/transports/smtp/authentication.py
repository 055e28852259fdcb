"""Who really sent a mail: SPF, DKIM and DMARC for the SMTP intake.

A mail's `From` is whatever the sender typed. The intake believes it only when the mail is
*authenticated*: DMARC passes for the `From` domain, or (when that domain publishes no DMARC
record) a DKIM signature or an SPF pass of a domain aligned with it (same organizational
domain, public suffix list bundled with `authheaders`, no download). Where the results
come from is `PROMPTLINK_EMAIL_AUTH`:

- `none` (default): nothing is checked; every mail is unauthenticated (the embedded
  single-machine setup and the demo: mail from 127.0.0.1 cannot pass SPF anyway).
- `relay`: the organisation's mail server (MX) checks and adds an `Authentication-Results`
  header (RFC 8601) with its authserv-id (`PROMPTLINK_EMAIL_AUTHSERV_ID`). The header is
  believed only on mail that arrives from one of `PROMPTLINK_EMAIL_TRUSTED_RELAYS` (IPs or
  networks), and only the topmost header with that authserv-id (the relay must remove any
  copy a sender forged, as RFC 8601 §5 asks).
- `dns`: the intake checks itself with pyspf (peer IP, `MAIL FROM`, `HELO`), dkimpy and
  authheaders' DMARC, each DNS lookup bounded by `PROMPTLINK_EMAIL_DNS_TIMEOUT_SECONDS`.
  A lookup that fails or times out leaves the mail unauthenticated (never refused).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import Message
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

TxtLookup = Callable[[str], "str | None"]


@dataclass(frozen=True)
class MailAuth:
    """The verdict on one mail: authenticated or not, how, and the results it rests on."""

    authenticated: bool
    method: str  # "none", "relay" or "dns"
    results: str = ""  # the Authentication-Results the verdict rests on (for the history and the log)
    reason: str = ""


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(".").lower()


@lru_cache(maxsize=4096)
def org_domain(domain: str) -> str:
    """The organizational domain (RFC 7489 §3.2) from the bundled public suffix list."""
    from authheaders.dmarc_lookup import get_org_domain

    try:
        return str(get_org_domain(domain.lower())).lower()
    except Exception:  # an odd name the list cannot split: compare it whole
        return domain.lower()


def _aligned(domain: str, from_domain: str) -> bool:
    domain = domain.strip().strip(".").lower()
    return bool(domain) and (domain == from_domain or org_domain(domain) == org_domain(from_domain))


def _prop(result: Any, ptype: str, name: str) -> str:
    for prop in getattr(result, "properties", None) or ():
        if str(prop.type).lower() == ptype and str(prop.name).lower() == name:
            return str(prop.value or "")
    return ""


def verdict(header_value: str, *, from_domain: str) -> tuple[bool, str]:
    """Whether one Authentication-Results value authenticates `from_domain`, and why."""
    import authres
    import authres.dmarc  # noqa: F401 - registers the dmarc method with the parser

    if not from_domain:
        return False, "no From domain"
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(header_value)
    except Exception as exc:
        return False, f"unparsable Authentication-Results ({type(exc).__name__})"
    dmarc = [r for r in parsed.results if str(r.method).lower() == "dmarc"]
    for result in dmarc:
        outcome = str(result.result).lower()
        header_from = (getattr(result, "header_from", None) or _prop(result, "header", "from")).lower()
        if outcome == "pass" and header_from.strip(".") == from_domain:
            return True, "dmarc=pass"
        if outcome not in ("none", ""):
            return False, f"dmarc={outcome}"
    # No DMARC policy published: an aligned DKIM signature or SPF pass still identifies the domain.
    for result in parsed.results:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        if outcome != "pass":
            continue
        if method == "dkim":
            d = getattr(result, "header_d", None) or _prop(result, "header", "d")
            if _aligned(str(d), from_domain):
                return True, "dkim=pass (aligned)"
        if method == "spf":
            mailfrom = getattr(result, "smtp_mailfrom", None) or _prop(result, "smtp", "mailfrom")
            if _aligned(domain_of(str(mailfrom)), from_domain):
                return True, "spf=pass (aligned)"
    return False, "no aligned pass"


def trusted_peer(peer_ip: str, relays: Sequence[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer_ip)
    except ValueError:
        return False
    for relay in relays:
        try:
            if address in ipaddress.ip_network(relay.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def relay_results(message: Message, authserv_id: str) -> str | None:
    """The topmost Authentication-Results header written by our relay (`authserv_id`)."""
    for value in message.get_all("Authentication-Results") or ():
        text = " ".join(str(value).split())
        if text.split(";", 1)[0].strip().split(" ")[0].lower() == authserv_id.lower():
            return text
    return None


def dns_results(
    raw: bytes,
    *,
    authserv_id: str,
    peer_ip: str | None,
    mail_from: str,
    helo: str,
    timeout: float,
    txt: TxtLookup | None = None,
) -> str:
    """SPF + DKIM + DMARC of a raw message as an Authentication-Results value (blocking: DNS).

    `txt` answers TXT queries (name → joined record text, None when there is none); by
    default a dnspython resolver with a `timeout` lifetime. SPF is checked only with a peer IP.
    """
    from authheaders import check_dkim, check_dmarc
    from authres import AuthenticationResultsHeader, SPFAuthenticationResult

    lookup = txt or _resolver_txt(timeout)

    def dkim_dns(name: str | bytes, timeout: float = timeout) -> bytes | None:
        text = lookup((name.decode() if isinstance(name, bytes) else name).rstrip("."))
        return text.encode() if text is not None else None

    def dmarc_dns(name: str) -> str | None:
        return lookup(name.rstrip("."))

    results: list[Any] = []
    spf_result = None
    if peer_ip:
        import spf

        try:
            outcome, reason = spf.check2(
                i=peer_ip, s=mail_from, h=helo or "unknown", timeout=timeout, querytime=timeout
            )
        except Exception as exc:  # pyspf raises on some malformed input
            outcome, reason = "temperror", type(exc).__name__
        spf_result = SPFAuthenticationResult(result=outcome, reason=reason, smtp_mailfrom=mail_from, smtp_helo=helo)
        results.append(spf_result)
    dkim_result = check_dkim(raw, dnsfunc=dkim_dns)
    results.append(dkim_result)
    try:
        results.append(check_dmarc(raw, spf_result, dkim_result, dnsfunc=dmarc_dns))
    except Exception as exc:  # a malformed DMARC record, a From the library cannot split
        log.info("dmarc check failed", extra={"error": repr(exc)[:200]})
    return str(AuthenticationResultsHeader(authserv_id=authserv_id, results=results)).split(":", 1)[1].strip()


def _resolver_txt(timeout: float) -> TxtLookup:
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    resolver.timeout = timeout

    def lookup(name: str) -> str | None:
        try:
            answer = resolver.resolve(name, "TXT", raise_on_no_answer=False)
        except (dns.exception.DNSException, OSError):
            return None
        for rrset in answer.response.answer:
            for item in rrset:
                strings = getattr(item, "strings", None)
                if strings:
                    return b"".join(strings).decode("utf-8", errors="replace")
        return None

    return lookup


class SenderAuthenticator:
    """Decides, per the settings, whether a received mail's `From` is authenticated."""

    def __init__(
        self,
        *,
        mode: str,
        authserv_id: str,
        trusted_relays: Sequence[str] = (),
        dns_timeout: float = 3.0,
        txt: TxtLookup | None = None,
    ) -> None:
        self.mode, self.authserv_id, self.trusted_relays = mode, authserv_id, list(trusted_relays)
        self.dns_timeout, self.txt = dns_timeout, txt

    async def check(
        self, *, raw: bytes, message: Message, author: str, peer_ip: str | None, mail_from: str, helo: str
    ) -> MailAuth:
        from_domain = domain_of(author) if "@" in author else ""
        if self.mode == "relay":
            if not peer_ip or not trusted_peer(peer_ip, self.trusted_relays):
                return MailAuth(False, "relay", reason="not received from a trusted relay")
            header = relay_results(message, self.authserv_id)
            if header is None:
                return MailAuth(False, "relay", reason=f"no Authentication-Results from {self.authserv_id}")
            ok, reason = verdict(header, from_domain=from_domain)
            return MailAuth(ok, "relay", header[:500], reason)
        if self.mode == "dns":
            try:
                header = await asyncio.wait_for(
                    asyncio.to_thread(
                        dns_results,
                        raw,
                        authserv_id=self.authserv_id,
                        peer_ip=peer_ip,
                        mail_from=mail_from,
                        helo=helo,
                        timeout=self.dns_timeout,
                        txt=self.txt,
                    ),
                    # SPF may take several lookups, DKIM and DMARC one or two each.
                    timeout=self.dns_timeout * 4 + 1,
                )
            except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001 - never refuse a mail for this
                log.warning("sender authentication failed", extra={"error": repr(exc)[:200]})
                return MailAuth(False, "dns", reason=f"check failed ({type(exc).__name__})")
            ok, reason = verdict(header, from_domain=from_domain)
            return MailAuth(ok, "dns", header[:500], reason)
        return MailAuth(False, "none", reason="sender authentication is off (PROMPTLINK_EMAIL_AUTH=none)")
