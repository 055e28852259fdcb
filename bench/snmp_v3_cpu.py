"""CPU cost of one SNMPv3 authPriv trap in the receiver, in process (no socket, no database).

Captures real pysnmp authPriv traps (SHA-256/AES-128, the demo user), then feeds each datagram
to the receiver's transport exactly as `datagram_received` does and measures process CPU time
per trap (`time.process_time`): the figure that holds on a loaded machine, where wall-clock
rates do not. `--profile` prints the top of cProfile's cumulative table.

    .venv/bin/python bench/snmp_v3_cpu.py --traps 3000
    .venv/bin/python bench/snmp_v3_cpu.py --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from pathlib import Path
from typing import Any

import harness  # noqa: F401 - puts backend/ on sys.path
from measure import machine_info
from promptlink.infra.settings import Settings
from promptlink.transports.snmp.metrics import TrapCounters
from promptlink.transports.snmp.receiver import TrapReceiver
from snmp import v3_packets


class Sink:
    """Takes what the receiver hands over (the journal's place): counts only."""

    def __init__(self) -> None:
        self.count = 0

    def put_nowait(self, _event: Any) -> None:
        self.count += 1

    def append(self, _event: Any) -> bool:
        self.count += 1
        return True


async def measure(traps: int, profile: bool) -> dict[str, Any]:
    settings = Settings(demo=True, snmp_port=0)
    counters = TrapCounters()
    sink = Sink()
    receiver = TrapReceiver(
        host="127.0.0.1",
        port=0,
        communities=list(settings.snmp_communities or []),
        v3_users=list(settings.snmp_v3_users or []),
        queue=sink,  # type: ignore[arg-type]
        counters=counters,
        allow_communities=True,
    )
    receiver.start()
    packets = await asyncio.to_thread(v3_packets, 50)
    transport = receiver._transport
    address = ("127.0.0.21", 40000)
    for packet in packets:  # warm-up: first-message paths (timeline discovery, MIB lookups)
        transport._guarded(packet, address)
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(traps):
        transport._guarded(packets[i % len(packets)], address)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    receiver.close()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    accepted = sink.count - len(packets)
    return {
        "traps": traps,
        "accepted": accepted,
        "dropped": counters.all_dropped(),
        "cpu_us_per_trap": round(cpu / traps * 1e6, 1),
        "wall_us_per_trap": round(wall / traps * 1e6, 1),
        "cpu_bound_rate_per_core": round(traps / cpu) if cpu else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traps", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    report = {"machine": machine_info(), "note": args.note, **asyncio.run(measure(args.traps, args.profile))}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
