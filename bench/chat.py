"""Chat benchmark: ack latency and throughput of the `/chat` gateway, and assistant reply time.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/chat.py [--scenario store|assistant|turns|all] [--clients C] [--messages N]
                                   [--assistant-messages M] [--out FILE.json] [--baseline FILE.json]

It starts its own processes on free ports in a temporary var dir with `testkit` (the harness the
tests use too), talks to them only on 127.0.0.1 and stops them on exit, Ctrl-C or error. It prints
figures; it never asserts anything about timing. The scenarios live in chat_scenarios.py (store,
assistant) and chat_turns.py (turns). See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from chat_scenarios import Skipped, run_assistant, run_store
from chat_turns import run_cluster_turns, run_turns
from harness import log
from measure import OTHER_WORK_WARNING, change, fmt, lookup, machine_info, write_report

# (scenario, dotted key, label); lower is better except where the label says otherwise.
ROWS = [
    ("store", "ack_ms.p50", "p50 ack ms"),
    ("store", "ack_ms.p95", "p95 ack ms"),
    ("store", "ack_ms.p99", "p99 ack ms"),
    ("store", "ack_ms.max", "max ack ms"),
    ("store", "acks_over_100ms", "acks over 100 ms"),
    ("store", "acks_over_1s", "acks over 1 s"),
    ("store", "throughput_msg_s", "throughput msg/s (higher is better)"),
    ("store", "acked", "acked messages"),
    ("store", "errors", "errors"),
    ("store", "truncated", "stopped by --time-limit"),
    ("store", "notices_drain_s", "notices drain s"),
    ("store", "rss_mb.before", "backend RSS before MB"),
    ("store", "rss_mb.after", "backend RSS after MB"),
    ("store", "rss_mb.peak", "backend RSS peak MB"),
    ("store", "other_cpu_cores", "other work on the machine, cores"),
    ("assistant", "startup_s", "stack start-up s"),
    ("assistant", "cold_first_reply_ms", "cold first reply ms"),
    ("assistant", "reply_ms.p50", "p50 reply ms"),
    ("assistant", "reply_ms.p95", "p95 reply ms"),
    ("assistant", "reply_ms.max", "max reply ms"),
    ("assistant", "ack_ms.p50", "p50 ack ms"),
    ("assistant", "replied", "bot replies"),
    ("assistant", "failures", "failures"),
    ("assistant", "truncated", "stopped by --time-limit"),
    ("assistant", "rss_mb.backend.before", "backend RSS before MB"),
    ("assistant", "rss_mb.backend.after", "backend RSS after MB"),
    ("assistant", "rss_mb.rasa.before", "rasa RSS before MB"),
    ("assistant", "rss_mb.rasa.after", "rasa RSS after MB"),
    ("assistant", "rss_mb.actions.before", "actions RSS before MB"),
    ("assistant", "rss_mb.actions.after", "actions RSS after MB"),
    ("assistant", "other_cpu_cores", "other work on the machine, cores"),
    ("turns", "startup_s", "stack start-up s"),
    ("turns", "cold_first_reply_ms.backend", "cold first reply, backend path ms"),
    ("turns", "cold_first_reply_ms.direct", "cold first reply, direct path ms"),
    ("turns", "backend.reply_ms.p50", "p50 reply, backend path ms"),
    ("turns", "direct.reply_ms.p50", "p50 reply, direct Rasa ms"),
    ("turns", "overhead_pct.p50", "overhead at p50 %"),
    ("turns", "backend.reply_ms.p95", "p95 reply, backend path ms"),
    ("turns", "direct.reply_ms.p95", "p95 reply, direct Rasa ms"),
    ("turns", "overhead_pct.p95", "overhead at p95 %"),
    ("turns", "backend.reply_ms.max", "max reply, backend path ms"),
    ("turns", "direct.reply_ms.max", "max reply, direct Rasa ms"),
    ("turns", "cpu_ms_per_turn.backend.backend", "backend CPU ms per turn, backend path"),
    ("turns", "cpu_ms_per_turn.backend.rasa", "Rasa CPU ms per turn, backend path"),
    ("turns", "cpu_ms_per_turn.direct.rasa", "Rasa CPU ms per turn, direct Rasa"),
    ("turns", "cpu_ms_per_turn.direct.backend", "backend CPU ms per turn, direct (idle)"),
    ("turns", "rasa_side_mean_ms.backend", "Rasa's own time per turn (mean), backend path ms"),
    ("turns", "rasa_side_mean_ms.direct", "Rasa's own time per turn (mean), direct Rasa ms"),
    ("turns", "cpu_ms_per_turn.backend.actions", "action server CPU ms per turn, backend path"),
    ("turns", "cpu_ms_per_turn.direct.actions", "action server CPU ms per turn, direct Rasa"),
    ("turns", "cpu_ms_per_turn.backend.client", "load generator CPU ms per turn, backend path"),
    ("turns", "cpu_ms_per_turn.direct.client", "load generator CPU ms per turn, direct Rasa"),
    ("turns", "backend.replied", "bot replies, backend path"),
    ("turns", "direct.replied", "bot replies, direct Rasa"),
    ("turns", "backend.errors", "failures, backend path"),
    ("turns", "direct.errors", "failures, direct Rasa"),
    ("turns", "truncated", "stopped by --time-limit"),
    ("turns", "goal.p95_ok", "goal: backend p95 < 300 ms"),
    ("turns", "goal.overhead_ok", "goal: overhead at p95 <= 15 %"),
    ("turns", "goal.met", "goal met"),
    ("turns", "other_cpu_cores", "other work on the machine, cores"),
]


def print_report(report: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    machine = report["machine"]
    dirty = " (dirty)" if machine["git_dirty"] else ""
    print(
        f"\nchat benchmark  {machine['date']}  commit {machine['git_commit']}{dirty}"
        f"  nproc {machine['nproc']}  python {machine['python']}"
    )
    if machine.get("note"):
        print(f"note            {machine['note']}")
    if baseline:
        bm = baseline.get("machine", {})
        print(f"baseline        {bm.get('date')}  commit {bm.get('git_commit')}  nproc {bm.get('nproc')}")
    params = report["params"]
    for scenario in report["scenarios"]:
        if scenario == "store":
            title = f"store: {params['clients']} clients x {params['messages']} messages, backend alone (Rasa down)"
        elif scenario == "turns":
            title = (
                f"turns: {params['chats']} concurrent chats x {params['turn_messages']} messages"
                f"{' (think time ' + format(params.get('think_ms'), 'g') + ' ms)' if params.get('think_ms') else ''}, "
                "backend path (socket.io) vs direct Rasa channel, alternating rounds"
            )
        else:
            title = f"assistant: {params['assistant_messages']} messages, one client, full stack"
        print(f"\n{title}")
        problem = report["scenarios"][scenario].get("skipped") or report["scenarios"][scenario].get("error")
        if problem:
            print(f"  not measured: {problem}")
            continue
        for row_scenario, key, label in ROWS:
            if row_scenario != scenario:
                continue
            current = lookup(report, scenario, key)
            if baseline is None:
                print(f"  {label:38} {fmt(current):>10}")
                continue
            old = lookup(baseline, scenario, key)
            print(f"  {label:38} {fmt(old):>10} → {fmt(current):<10} {change(old, current)}")
        if scenario == "turns":
            per_text = lookup(report, scenario, "by_text_p50_p95_ms") or {}
            old_text = lookup(baseline, scenario, "by_text_p50_p95_ms") or {} if baseline else {}
            for path, texts in per_text.items():
                for text, (p50, p95) in texts.items():
                    was = (old_text.get(path) or {}).get(text)
                    before = f"  (baseline {was[0]} / {was[1]})" if was else ""
                    print(f"  {path:7} p50/p95 ms {p50:>7} / {p95:<7} «{text}»{before}")
        other = lookup(report, scenario, "other_cpu_cores")
        if isinstance(other, float) and other > OTHER_WORK_WARNING:
            print(f"  WARNING: other processes kept {other} cores busy during this scenario; its figures are skewed.")
    print()


# --------------------------------------------------------------------------- main


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["store", "assistant", "turns", "all"], default="all")
    parser.add_argument("--clients", type=int, default=4, help="store: concurrent clients (default 4)")
    parser.add_argument("--messages", type=int, default=250, help="store: messages per client (default 250)")
    parser.add_argument("--warmup", type=int, default=5, help="store: unmeasured messages per client (default 5)")
    parser.add_argument("--assistant-messages", type=int, default=30, help="assistant: messages (default 30)")
    parser.add_argument("--chats", type=int, default=20, help="turns: concurrent chats on each path (default 20)")
    parser.add_argument(
        "--rasa-processes",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="assistant, turns: Rasa servers the stack runs (default: min(2, cores), as `make run`)",
    )
    parser.add_argument(
        "--turn-messages", type=int, default=15, help="turns: messages per chat on each path (default 15)"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="turns: a chat's pause between a reply and its next message, 50-150 %% of this (default 0: none)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=300.0, help="seconds of traffic per scenario before it stops (default 300)"
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="turns: through the deploy/ topology (HAProxy, 2 backends, 2 Rasa on PostgreSQL + Redis) instead",
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--baseline", type=Path, help="a JSON file from --out to compare with")
    parser.add_argument(
        "--model", type=Path, help="assistant: Rasa model file (default: the one for the current data in models/)"
    )
    parser.add_argument("--note", default="", help="free text stored in the JSON and printed in the header")
    parser.add_argument("--keep-var", action="store_true", help="keep the temporary var dirs (logs, databases)")
    args = parser.parse_args(argv)
    for name in ("clients", "messages", "assistant_messages", "chats", "turn_messages"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.time_limit <= 0 or args.think_ms < 0:
        parser.error("--warmup and --think-ms must be >= 0 and --time-limit > 0")
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None

    signal.signal(signal.SIGTERM, _terminate)
    report: dict[str, Any] = {
        "machine": machine_info(),
        "params": {
            "clients": args.clients,
            "messages": args.messages,
            "warmup": args.warmup,
            "assistant_messages": args.assistant_messages,
            "chats": args.chats,
            "turn_messages": args.turn_messages,
            "think_ms": args.think_ms,
            "time_limit_s": args.time_limit,
        },
        "scenarios": {},
    }
    if args.note:
        report["machine"]["note"] = args.note
    failed = False
    runners = {
        "store": run_store,
        "assistant": run_assistant,
        "turns": run_cluster_turns if args.cluster else run_turns,
    }
    try:
        for name, run in runners.items():
            # `all` keeps its meaning (store + assistant); `turns` starts its own stack and runs only when asked.
            if args.scenario != name and not (args.scenario == "all" and name != "turns"):
                continue
            try:
                report["scenarios"][name] = run(args)
            except Skipped as exc:
                log(f"{name}: skipped: {exc}")
                report["scenarios"][name] = {"skipped": str(exc)}
                failed = True
            except Exception as exc:  # a failed scenario must not lose the other one's figures
                traceback.print_exc()
                log(f"{name}: failed: {type(exc).__name__}: {exc}")
                report["scenarios"][name] = {"error": f"{type(exc).__name__}: {exc}"}
                failed = True
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Ctrl-C inside asyncio.run may surface as the main task's cancellation.
        log("interrupted; processes stopped")
        return 130
    print_report(report, baseline)
    write_report(report, args.out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
