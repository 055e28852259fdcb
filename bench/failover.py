"""Singleton takeover benchmark: how long the cluster is without its SMTP intake (and the other
singletons) after the process holding their leases is SIGKILLed.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/failover.py [--rounds N] [--poll SECONDS] [--out FILE.json]

Two backends (`python -m promptlink serve`, Rasa down) on one throwaway PostgreSQL database,
each with its own ports. Each round: find the process whose health says it holds `smtp-intake`,
SIGKILL it, and time (from the kill) until the other one greets on its SMTP port, and until its
health says it holds all four singletons; then start a fresh standby in place of the killed one.
Nothing is sent anywhere but 127.0.0.1; the database is dropped and every process stopped on any
exit. It prints figures and never asserts anything about timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import BENCH_ENV, DatabaseUnavailable, database, log
from measure import machine_info, summary, write_report

from testkit.processes import Running, lone_env, start

SINGLETONS = ("smtp-intake", "snmp-receiver", "sweeper", "training-notices")
BOUND = 60.0  # a guard only


def greets(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return conn.recv(100).startswith(b"220")
    except OSError:
        return False


def singletons(backend: Running) -> dict[str, str]:
    import httpx

    try:
        body = httpx.get(backend.base_url + "/api/v1/health", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return {name: state["here"] for name, state in body.get("singletons", {}).items()}


def backend(work: Path, label: str, env: dict[str, str]) -> Running:
    var_dir = work / label
    var_dir.mkdir()
    return start(var_dir, ["serve"], lone_env(var_dir, **env), health_timeout=180, accept=(503,))


def run(rounds: int, poll: float) -> dict[str, Any]:
    machine = machine_info()
    work = Path(tempfile.mkdtemp(prefix="promptlink-bench-failover-"))
    figures: dict[str, list[float]] = {"smtp_greets_s": [], "all_singletons_s": []}
    with database("postgresql", work, "failover") as url:
        env = dict(BENCH_ENV, PROMPTLINK_DATABASE_URL=url, PROMPTLINK_LEASE_POLL_SECONDS=str(poll))
        running = [backend(work, "p0", env), backend(work, "p1", env)]
        try:
            for n in range(rounds):
                states = [singletons(b) for b in running]
                holder = next(i for i, s in enumerate(states) if s.get("smtp-intake") == "active")
                survivor = running[1 - holder]
                port = int(survivor.env["PROMPTLINK_SMTP_INTAKE_PORT"])
                running[holder].process.send_signal(signal.SIGKILL)
                running[holder].process.wait(timeout=10)
                killed_at = time.monotonic()
                smtp = everything = None
                while time.monotonic() - killed_at < BOUND and (smtp is None or everything is None):
                    if smtp is None and greets(port):
                        smtp = time.monotonic() - killed_at
                    if everything is None and all(singletons(survivor).get(k) == "active" for k in SINGLETONS):
                        everything = time.monotonic() - killed_at
                    time.sleep(0.02)
                log(f"round {n + 1}: SMTP intake back after {smtp} s, all singletons after {everything} s")
                if smtp is not None and everything is not None:
                    figures["smtp_greets_s"].append(round(smtp, 3))
                    figures["all_singletons_s"].append(round(everything, 3))
                running[holder] = backend(work, f"p{n + 2}", env)  # a fresh standby
        finally:
            for b in running:
                b.stop()
    return {
        "machine": machine,
        "lease_poll_seconds": poll,
        "rounds": rounds,
        "takeovers": figures,
        "summary": {k: summary(v, (50, 95)) for k, v in figures.items() if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--poll", type=float, default=2.0, help="PROMPTLINK_LEASE_POLL_SECONDS (default 2)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        report = run(args.rounds, args.poll)
    except DatabaseUnavailable as exc:
        raise SystemExit(f"failover benchmark needs PostgreSQL: {exc}") from exc
    for key, values in report["takeovers"].items():
        print(f"{key:18} {values}  {report['summary'].get(key, {})}")
    write_report(report, args.out)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
