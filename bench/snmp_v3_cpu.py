"""CPU cost of one SNMPv3 authPriv trap in the receiver, in process (no socket, no database).

Captures real pysnmp authPriv traps (SHA-256/AES-128, the demo user), then hands each datagram
to the receiver's transport (`datagram_received`, as the event loop does on a read) and measures
process CPU time per trap (`time.process_time`): the figure that holds on a loaded machine, where
wall-clock rates do not. `--pysnmp-only` turns the fast paths off (the code before the v3 fast
path: every v3 trap through pysnmp). `--profile` prints the top of cProfile's cumulative table.

    .venv/bin/python bench/snmp_v3_cpu.py --traps 3000
    .venv/bin/python bench/snmp_v3_cpu.py --traps 3000 --pysnmp-only
    .venv/bin/python bench/snmp_v3_cpu.py --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import harness  # noqa: F401 - puts backend/ on sys.path
from measure import machine_info
from promptlink.infra.settings import Settings
from promptlink.transports.snmp.journal import TrapJournal
from promptlink.transports.snmp.metrics import TrapCounters
from promptlink.transports.snmp.receiver import TrapEvent, TrapReceiver
from snmp import v3_packets


class CountingJournal(TrapJournal):
    """The real journal (group commit, fsync: its CPU is in the figure), counting what it takes."""

    count = 0

    def append(self, event: TrapEvent) -> bool:
        self.count += 1
        return super().append(event)


async def measure(traps: int, profile: bool, fast_path: bool) -> dict[str, Any]:
    settings = Settings(demo=True, snmp_port=0)
    counters = TrapCounters()
    work = Path(tempfile.mkdtemp(prefix="promptlink-bench-v3-"))
    sink = CountingJournal(work / "journal", max_bytes=1 << 30)
    sink.start()
    receiver = TrapReceiver(
        host="127.0.0.1",
        port=0,
        communities=list(settings.snmp_communities or []),
        v3_users=list(settings.snmp_v3_users or []),
        journal=sink,
        counters=counters,
        rcvbuf_bytes=settings.snmp_rcvbuf_bytes,
        allow_communities=True,
        fast_path=fast_path,
    )
    receiver.start()
    packets = await asyncio.to_thread(v3_packets, 50)
    transport = receiver._transport
    address = ("127.0.0.21", 40000)
    for packet in packets:  # warm-up: first-message paths (timeline discovery, MIB lookups)
        transport.datagram_received(packet, address)
    await asyncio.sleep(0.1)
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(traps):
        transport.datagram_received(packets[i % len(packets)], address)
        if i % 100 == 99:
            await asyncio.sleep(0)  # what pysnmp's path scheduled (call_soon) runs here
    await asyncio.sleep(0)
    await sink.close()  # the last group commit is part of the cost
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    receiver.close()
    shutil.rmtree(work, ignore_errors=True)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    accepted = sink.count - len(packets)
    return {
        "path": "fast path (v2c, v3 authPriv) + pysnmp" if fast_path else "pysnmp only",
        "rcvbuf_bytes": receiver.rcvbuf_effective,
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
    parser.add_argument("--pysnmp-only", action="store_true", help="no fast paths (the v3 path before them)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    report = {
        "machine": machine_info(),
        "note": args.note,
        **asyncio.run(measure(args.traps, args.profile, not args.pysnmp_only)),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
