"""What the Prometheus metrics cost (docs/operations.md): one observation on the turn path, and a
scrape of `/api/v1/metrics` on a backend alone.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/metrics.py [--scrapes N] [--observations N] [--out FILE.json]

(1) In this process: `promptlink_turn_seconds.labels(path).observe(x)` N times (what a chat turn
adds), and rendering the registry. (2) A backend alone (SQLite, Rasa down: the scrape's Rasa
status check meets a closed port) scraped N times in a row with the service token: the
scrape's wall time (two grouped queries, the Rasa check, the rendering) and the body's size.
It prints figures and never asserts anything about timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import time
import timeit
from pathlib import Path
from typing import Any

from harness import backend_process, log
from measure import machine_info, summary, tree_state, write_report
from promptlink.infra import metrics

from testkit.demo import SERVICE_TOKEN


def in_process(observations: int) -> dict[str, Any]:
    histogram = metrics.TURN_SECONDS.labels("assistant")
    per_call = min(timeit.repeat(lambda: histogram.observe(0.03), number=observations, repeat=5)) / observations
    render = min(timeit.repeat(metrics.render, number=50, repeat=5)) / 50
    return {"observe_us": round(per_call * 1e6, 3), "render_ms": round(render * 1e3, 3)}


def scrapes(count: int) -> dict[str, Any]:
    import httpx

    with backend_process(keep_var=False) as running, httpx.Client(timeout=30) as client:
        url = f"{running.base_url}/api/v1/metrics"
        headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
        client.get(url, headers=headers)  # warm-up: first connection, first query
        times: list[float] = []
        size, samples = 0, 0
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            size = len(response.content)
            samples = sum(1 for line in response.text.splitlines() if line and not line.startswith("#"))
        return {"scrape_ms": summary(times), "body_bytes": size, "samples": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--observations", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info(), "tree": tree_state()}
    report["in_process"] = in_process(args.observations)
    log(f"observe: {report['in_process']['observe_us']} µs per call; render: {report['in_process']['render_ms']} ms")
    report["backend"] = scrapes(args.scrapes)
    b = report["backend"]
    log(f"scrape of /api/v1/metrics: {b['scrape_ms']} ms over {args.scrapes} scrapes, {b['body_bytes']} bytes")
    write_report(report, args.out)


if __name__ == "__main__":
    main()
