"""Rasa server memory: where one server's RSS goes, stage by stage, and what the environment changes.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/rasa_memory.py [--variants none,supervisor,...] [--conversations 100]
                                          [--turns 3] [--imports] [--out FILE.json]

Variants are independent: on a 2-core machine run them one per process (`--variants X --out ...-X.json`).

For each variant (a set of environment variables given to the Rasa process, see VARIANTS) it measures
`/proc/<pid>/smaps_rollup` (RSS, PSS, anonymous, file-backed) and the largest mappings of:

1. `imports` (with `--imports`): a bare bot-environment interpreter, after `import tensorflow`, after importing Rasa's
   agent and the project's channel (what the server imports before it loads anything);
2. `server`: the Rasa server exactly as the supervisor starts it (`build_children`: same command,
   same environment plus the variant's), after the model is loaded, after one warm-up turn, and
   after `--conversations` conversations of `--turns` turns each through the `promptlink` channel
   (utterance-only texts: no action server needed). The server's CPU per turn and the turns'
   latency are printed too, so a setting that saves memory but costs time shows it.

With `--answers N` it also records, after the traffic, what the model answers (`/model/parse` of
tests/nlu_heldout.yml's texts, the events of N conversations); `--same-answers-as FILE` compares them
with another run's, so a memory setting can be shown not to change the answers.

It prints figures and never asserts anything. Everything runs on 127.0.0.1 in a temporary var dir and
is stopped on exit, error or Ctrl-C. The machine may be shared: RSS figures barely move with load;
the CPU and latency figures do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import ROOT, log
from measure import cpu_seconds, machine_info, percentile, write_report

from testkit.demo import RASA_CHANNEL_TOKEN
from testkit.processes import free_port

BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2"
# Small talk and information questions answered with utterances (no action server runs here; «hola»
# greets by name through an action, so it is not among them).
TEXTS = [
    "buenas tardes",
    "¿qué cubre el plan de soporte?",
    "¿cuáles son las prioridades?",
    "gracias",
    "¿eres un robot?",
]


def _variants() -> dict[str, dict[str, str | None]]:
    """name -> environment changes (None removes a variable). `supervisor` is what build_children sets."""
    from promptlink.supervisor import RASA_MEMORY_ENV

    # What bot/rasa_server.py does to a server, each undone by its variable: blocking jax, dropping the
    # training step a loaded model traced, malloc_trim after a model load.
    keep_train_step = {"PROMPTLINK_RASA_DROP_TRAIN_STEP": "0"}
    no_trim = {"PROMPTLINK_RASA_MALLOC_TRIM": "0"}
    # `none` undoes all of them: Rasa as it ran before.
    none: dict[str, str | None] = {
        **dict.fromkeys(RASA_MEMORY_ENV),
        "PROMPTLINK_RASA_IMPORT_ALL": "1",
        **keep_train_step,
        **no_trim,
    }
    threads = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    return {
        "none": none,  # Rasa as it ran before: no memory settings at all
        "tf-threads-1": {**none, **threads},
        "malloc-arena-2": {**none, "MALLOC_ARENA_MAX": "2"},
        "jemalloc": {**none, "LD_PRELOAD": JEMALLOC},
        "threads+arena": {**none, **threads, "MALLOC_ARENA_MAX": "2"},
        "supervisor-env-only": {
            "PROMPTLINK_RASA_IMPORT_ALL": "1",
            **keep_train_step,
            **no_trim,
        },  # the environment only
        "supervisor-s12": {**keep_train_step, **no_trim},  # session 12's default
        "supervisor-no-drop": keep_train_step,  # session 12's + malloc_trim
        "supervisor-no-trim": no_trim,  # session 12's + the training step dropped
        "supervisor+jemalloc": {"LD_PRELOAD": JEMALLOC},
        "supervisor+jemalloc-tuned": {"LD_PRELOAD": JEMALLOC, "MALLOC_CONF": JEMALLOC_CONF},
        "supervisor": {},  # exactly what the supervisor gives Rasa now
    }


# --------------------------------------------------------------------------- /proc


def smaps(pid: int) -> dict[str, Any]:
    """RSS breakdown of a process in MB: smaps_rollup's totals, threads, and the largest mappings by RSS."""
    rollup: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            rollup[key] = round(int(value.split()[0]) / 1024, 1)
    by_mapping: dict[str, float] = {}
    name = "?"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and ":" not in head[0]:  # a mapping's header line
            path = head[5] if len(head) > 5 else ""
            name = Path(path).name if path.startswith("/") else (path or "[anonymous]")
        elif line.startswith("Rss:"):
            by_mapping[name] = by_mapping.get(name, 0.0) + int(line.split()[1]) / 1024
    threads = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            threads = int(line.split()[1])
    top = sorted(by_mapping.items(), key=lambda kv: -kv[1])[:10]
    return {
        "rss": rollup.get("Rss", 0.0),
        "pss": rollup.get("Pss", 0.0),
        "anonymous": rollup.get("Anonymous", 0.0),
        "file": round(rollup.get("Pss_File", 0.0), 1),
        "swap": rollup.get("Swap", 0.0),
        "threads": threads,
        "top_mappings": {k: round(v, 1) for k, v in top},
    }


def environment(changes: dict[str, str | None], base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


# --------------------------------------------------------------------------- stage 1: imports

_IMPORTS = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from rasa_memory_probe import smaps
out = {"python": smaps(__import__("os").getpid())}
import tensorflow
out["import tensorflow"] = smaps(__import__("os").getpid())
import rasa.core.agent, rasa.core.run, bot.channel, bot.tracker_store  # noqa
out["import rasa + bot"] = smaps(__import__("os").getpid())
print(json.dumps(out))
"""


def imports(env: dict[str, str], probe_dir: Path) -> dict[str, Any]:
    """RSS of a bot-environment interpreter after each import stage (one fresh process)."""
    done = subprocess.run(
        [str(BOT_PY), "-c", _IMPORTS, str(probe_dir), str(ROOT)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------- stage 2: the server


@contextmanager
def rasa_server(var_dir: Path, changes: dict[str, str | None]) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    """One Rasa server as the supervisor starts it (its command and environment), plus `changes`."""
    from promptlink.infra.settings import Settings
    from promptlink.supervisor import build_children

    from testkit.processes import stack_env

    env = stack_env(var_dir, 1, PROMPTLINK_ACTIONS_URL=f"http://127.0.0.1:{free_port()}")
    url = env["PROMPTLINK_RASA_URL"]
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings()
        token = settings.secret("rasa_token")
        model = Path(
            subprocess.run(
                [sys.executable, str(ROOT / "bot" / "model.py"), "path"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        (var_dir / "run").mkdir(parents=True, exist_ok=True)
        (var_dir / "log").mkdir(parents=True, exist_ok=True)
        child = next(c for c in build_children(settings, model, var_dir / "run") if c.name == "rasa")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with (var_dir / "rasa.out").open("wb") as out:
        process = subprocess.Popen(
            child.argv, cwd=ROOT, env=environment(changes, child.env), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process, url, token
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_model(process: subprocess.Popen[bytes], url: str, token: str, timeout: float = 1800.0) -> float:
    """Seconds until the server answers /status with a model loaded."""
    import httpx

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"rasa exited with {process.returncode}")
        try:
            response = httpx.get(f"{url}/status", params={"token": token}, timeout=3)
            if response.status_code == 200 and response.json().get("model_file"):
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError("model not loaded")


async def conversations(url: str, count: int, turns: int, concurrency: int, prefix: str = "") -> list[float]:
    """`count` new conversations of `turns` turns each, `concurrency` at a time; the turns' latency in ms.

    Conversation k's sender is `<prefix><k>` (a random prefix when none is given) and its texts depend
    only on k. A turn must be answered with HTTP 200 (an empty answer counts: memory is what is measured)."""
    import httpx

    headers = {"Authorization": f"Bearer {RASA_CHANNEL_TOKEN}"}
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient, k: int) -> None:
        sender = f"{prefix or uuid.uuid4().hex + '-'}{k}"
        async with gate:
            for t in range(turns):
                start = time.perf_counter()
                response = await http.post(
                    f"{url}/webhooks/promptlink/webhook",
                    json={
                        "sender": sender,
                        "message": TEXTS[(k + t) % len(TEXTS)],
                        "metadata": {"conversation_id": sender},
                    },
                    headers=headers,
                )
                if response.status_code != 200:
                    raise RuntimeError(f"turn failed: HTTP {response.status_code} {response.text[:200]}")
                latencies.append((time.perf_counter() - start) * 1000)

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(one(http, k) for k in range(count)))
    return latencies


def heldout_texts() -> list[str]:
    """The held-out NLU examples' plain texts (entity annotations removed)."""
    from promptlink.services import nlu_files

    return [nlu_files.ANNOTATION.sub(r"\1", raw) for _intent, raw in nlu_files.examples(ROOT / nlu_files.HELDOUT)]


async def answers(url: str, token: str, senders: list[str]) -> dict[str, Any]:
    """What the model answers: `/model/parse` of every held-out text (intent, its confidence to 6
    decimals, entities) and the events (intents, actions, bot texts) of the given conversations."""
    import httpx

    parsed: dict[str, Any] = {}
    dialogues: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=60, params={"token": token}) as http:
        for text in heldout_texts():
            body = (await http.post(f"{url}/model/parse", json={"text": text})).raise_for_status().json()
            parsed[text] = [
                body["intent"]["name"],
                round(body["intent"]["confidence"], 6),
                sorted([e["entity"], e["value"]] for e in body.get("entities", [])),
            ]
        for k, sender in enumerate(senders):
            tracker = (await http.get(f"{url}/conversations/{sender}/tracker")).raise_for_status().json()
            dialogues[str(k)] = [
                [
                    e["event"],
                    e.get("name") or (e.get("parse_data") or {}).get("intent", {}).get("name") or e.get("text"),
                ]
                for e in tracker["events"]
                if e["event"] in ("user", "action", "bot")
            ]
    return {"parse": parsed, "conversations": dialogues}


def compare_answers(mine: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Differences between two variants' `answers` (empty: the model answered the same)."""
    diffs = [
        f"parse {t!r}: {v} != {other['parse'].get(t)}" for t, v in mine["parse"].items() if other["parse"].get(t) != v
    ]
    diffs += [
        f"conversation {k}: {v} != {other['conversations'].get(k)}"
        for k, v in mine["conversations"].items()
        if other["conversations"].get(k) != v
    ]
    return diffs


def run_variant(
    name: str, changes: dict[str, str | None], args: argparse.Namespace, probe: Path, result: dict[str, Any]
) -> dict[str, Any]:
    """Fills `result` as it goes: a failure part-way keeps the stages measured before it."""
    with tempfile.TemporaryDirectory(prefix="promptlink-bench-rasamem-") as tmp:
        var_dir = Path(tmp)
        with rasa_server(var_dir, changes) as (process, url, token):
            if args.imports:
                log(f"{name}: import stages")
                result["imports"] = imports(environment(changes, dict(os.environ, PYTHONPATH=str(ROOT))), probe)
            log(f"{name}: waiting for the model (pid {process.pid})")
            result["load_s"] = round(wait_model(process, url, token), 1)
            stages: dict[str, Any] = {"model loaded": smaps(process.pid)}
            result["stages"] = stages
            asyncio.run(conversations(url, 1, 1, 1))
            stages["after 1 turn"] = smaps(process.pid)
            log(f"{name}: {args.conversations} conversations x {args.turns} turns")
            cpu = cpu_seconds(process.pid)
            started = time.perf_counter()
            prefix = f"bench-{uuid.uuid4().hex[:8]}-"
            lat = asyncio.run(conversations(url, args.conversations, args.turns, args.concurrency, prefix))
            wall = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu
            stages[f"after {args.conversations} conversations"] = smaps(process.pid)
            result["stages"] = stages
            result["turns"] = {
                "count": len(lat),
                "cpu_ms_per_turn": round(cpu * 1000 / max(1, len(lat)), 2),
                "p50_ms": round(percentile(lat, 50), 1),
                "p95_ms": round(percentile(lat, 95), 1),
                "wall_s": round(wall, 1),
            }
            peak = next(
                (
                    int(line.split()[1])
                    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM:")
                ),
                0,
            )
            result["peak_rss_mb"] = round(peak / 1024, 1)
            if args.answers:
                log(f"{name}: answers (held-out parse, {args.answers} conversations' events)")
                result["answers"] = asyncio.run(
                    answers(url, token, [f"{prefix}{k}" for k in range(min(args.answers, args.conversations))])
                )
    return result


def print_report(report: dict[str, Any]) -> None:
    machine = report["machine"]
    print(
        f"\nRasa server memory  {machine['date']}  commit {machine['git_commit']}"
        f"  load {machine['loadavg_1m_at_start']}"
    )
    for name, v in report["variants"].items():
        print(f"\n{name}: {json.dumps(v['env'])}")
        if "error" in v:
            print(f"  failed: {v['error']}")
        if "turns" not in v:
            for stage, m in list(v.get("imports", {}).items()) + list(v.get("stages", {}).items()):
                print(f"  {stage:30} RSS {m['rss']:7.1f}  anon {m['anonymous']:7.1f}  threads {m['threads']:3}")
            continue
        for stage, m in list(v.get("imports", {}).items()) + list(v["stages"].items()):
            print(
                f"  {stage:30} RSS {m['rss']:7.1f}  anon {m['anonymous']:7.1f}  file(PSS) {m['file']:6.1f}"
                f"  threads {m['threads']:3}"
            )
        last = list(v["stages"].values())[-1]
        print("  largest mappings at the end (MB): " + ", ".join(f"{k} {m}" for k, m in last["top_mappings"].items()))
        t = v["turns"]
        print(
            f"  model load {v['load_s']} s; peak RSS {v['peak_rss_mb']} MB; {t['count']} turns: "
            f"CPU {t['cpu_ms_per_turn']} ms/turn, p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(_variants()), help="comma-separated names (default: all)")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--turns", type=int, default=3, help="turns per conversation (default 3)")
    parser.add_argument("--concurrency", type=int, default=10, help="conversations at once (default 10)")
    parser.add_argument(
        "--imports", action="store_true", help="also the import stages (a fresh interpreter; minutes on a busy machine)"
    )
    parser.add_argument(
        "--answers",
        type=int,
        default=0,
        metavar="N",
        help="after the traffic, record what the model answers: /model/parse of tests/nlu_heldout.yml's texts "
        "and the events of the first N conversations (0: not recorded)",
    )
    parser.add_argument(
        "--same-answers-as",
        type=Path,
        metavar="FILE",
        help="a report made with --answers: print where the answers differ",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    variants = _variants()
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in variants]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {list(variants)}")
    report: dict[str, Any] = {
        "machine": machine_info(),
        "params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "variants": {},
    }
    if args.note:
        report["machine"]["note"] = args.note
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
    with tempfile.TemporaryDirectory(prefix="promptlink-rasamem-probe-") as probe_dir:
        probe = Path(probe_dir)
        # The import stage runs in the bot environment: it gets `smaps` from a copy of this file's function.
        source = Path(__file__).read_text()
        start, end = source.index("def smaps("), source.index("def environment(")
        (probe / "rasa_memory_probe.py").write_text(
            "from pathlib import Path\nfrom typing import Any\n\n" + source[start:end]
        )
        for name in chosen:
            log(f"variant {name}")
            report["variants"][name] = {"env": variants[name]}
            try:
                run_variant(name, variants[name], args, probe, report["variants"][name])
            except KeyboardInterrupt:
                log("interrupted; processes stopped")
                return 130
            except Exception as exc:  # one failed variant keeps the others' figures
                log(f"{name}: failed: {type(exc).__name__}: {exc}")
                report["variants"][name]["error"] = f"{type(exc).__name__}: {exc}"
    print_report(report)
    if args.same_answers_as:
        other = json.loads(args.same_answers_as.read_text())["variants"]
        theirs = next((v["answers"] for v in other.values() if "answers" in v), None)
        for name, v in report["variants"].items():
            if "answers" in v and theirs is not None:
                diffs = compare_answers(v["answers"], theirs)
                report["variants"][name]["same_answers_as"] = {"file": str(args.same_answers_as), "differences": diffs}
                print(
                    f"{name}: answers vs {args.same_answers_as}: "
                    + (
                        f"{len(diffs)} differences"
                        if diffs
                        else f"identical ({len(v['answers']['parse'])} parses, "
                        f"{len(v['answers']['conversations'])} conversations)"
                    )
                )
                for line in diffs[:20]:
                    print("  " + line)
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
