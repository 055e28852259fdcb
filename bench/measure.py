"""What every benchmark measures and prints: CPU and memory from /proc, percentiles, the machine and the
tree a run measured, and the baseline-vs-current report.

Only standard library: it reads /proc and git, and sends nothing anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import ROOT, log

OTHER_WORK_WARNING = 0.1  # cores of CPU used by other processes during a scenario

# --------------------------------------------------------------------------- memory


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in kB from /proc/<pid>/status; empty when the process is gone."""
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM") and value.split():
            fields[key] = int(value.split()[0])
    return fields


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone (or going) since the listing
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pid: int) -> dict[str, float | int]:
    """RSS of a process (and of its descendants, if it has any), in MB (1 MB = 1024 kB)."""
    own = _proc_status(pid)
    tree_kb = own.get("VmRSS", 0)
    children = _descendants(pid)
    for child in children:
        tree_kb += _proc_status(child).get("VmRSS", 0)
    return {
        "rss": round(own.get("VmRSS", 0) / 1024, 1),
        "peak": round(own.get("VmHWM", 0) / 1024, 1),
        "tree": round(tree_kb / 1024, 1),
        "children": len(children),
    }


# --------------------------------------------------------------------------- CPU


def _machine_ticks() -> tuple[int, int]:
    """(all, busy) CPU ticks of the machine since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values), sum(values) - idle


def _process_ticks(pid: int, *, children: bool = True) -> int:
    """utime + stime (+ cutime + cstime of its waited-for children) of a process, in /proc/stat's ticks;
    0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11 : 15 if children else 13])
    except (OSError, IndexError, ValueError):
        return 0


class CpuWatch:
    """CPU used on the machine by processes other than the bench's own, while it measures.

    `other_cores` is the average number of cores that other work kept busy: near 0 on an idle
    machine; anything above ~0.1 means the figures of that run are skewed by other work.
    """

    def __init__(self, root_pid: int) -> None:
        self.pids = [os.getpid(), root_pid, *_descendants(root_pid)]
        self.start = _machine_ticks()
        self.ours = sum(_process_ticks(pid) for pid in self.pids)

    def other_cores(self) -> float:
        total, busy = _machine_ticks()
        ours = sum(_process_ticks(pid) for pid in self.pids) - self.ours
        elapsed_per_cpu = (total - self.start[0]) / max(1, len(os.sched_getaffinity(0)))
        other = busy - self.start[1] - ours
        return round(max(0.0, other / elapsed_per_cpu), 2) if elapsed_per_cpu > 0 else 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by one process."""
    return _process_ticks(pid, children=False) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(database_url: str) -> float:
    """CPU time used so far by the PostgreSQL backends serving `database_url`'s database.

    Backends are told apart by their process title (`postgres: ... <user> <database> ...`), so other
    databases on the same server (a test suite running meanwhile) do not count. Backends that exit
    between two readings take their time with them: read it while the pool keeps its connections.
    """
    name = f" {database_url.rsplit('/', 1)[-1]} "
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if name in f"{title} ":
            total += _process_ticks(int(entry.name), children=False)
    return total / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float], qs: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    if not values:
        return {}
    out = {f"p{q}": round(percentile(values, q), 2) for q in qs}
    out["max"] = round(max(values), 2)
    out["mean"] = round(sum(values) / len(values), 2)
    return out


# --------------------------------------------------------------------------- the machine and the tree


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine_info() -> dict[str, Any]:
    cpu = ""
    mem_gb = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "mem_gb": mem_gb,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),  # other work on the machine skews every figure
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "--short", "HEAD").strip(),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no").strip()),
    }


def tree_state() -> dict[str, Any]:
    """Which backend files differ from the commit, and a digest of that difference.

    Others work in the same tree: two runs on the same commit can still measure different code.
    """
    changed = [line[3:] for line in _git("status", "--porcelain", "--", "backend").splitlines()]
    diff = _git("diff", "HEAD", "--", "backend")
    return {
        "backend_changed_files": changed,
        "backend_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None,
    }


# --------------------------------------------------------------------------- report


def lookup(report: dict[str, Any] | None, scenario: str, key: str) -> Any:
    node: Any = (report or {}).get("scenarios", {}).get(scenario)
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def change(old: Any, current: Any) -> str:
    """`(+12%)`: the relative change of a number from the baseline; empty for anything else."""
    numeric = (int, float)
    if (
        isinstance(old, numeric)
        and isinstance(current, numeric)
        and not isinstance(old, bool)
        and not isinstance(current, bool)
        and old
    ):
        return f"({(current - old) / abs(old) * 100:+.0f}%)"
    return ""


def print_report(
    title: str,
    report: dict[str, Any],
    baseline: dict[str, Any] | None,
    rows: list[tuple[str, str]],
    headings: dict[str, str],
) -> None:
    """Each scenario's figures; with a baseline, `baseline → current (relative change)`.

    `rows` are (dotted key, label) pairs, looked up in every scenario that has them.
    """
    machine = report["machine"]
    dirty = " (dirty)" if machine["git_dirty"] else ""
    print(
        f"\n{title}  {machine['date']}  commit {machine['git_commit']}{dirty}"
        f"  nproc {machine['nproc']}  python {machine['python']}  load {machine['loadavg_1m_at_start']}"
    )
    if baseline:
        bm = baseline.get("machine", {})
        print(f"{'baseline':{len(title)}}  {bm.get('date')}  commit {bm.get('git_commit')}  nproc {bm.get('nproc')}")
    names = list(report["scenarios"])
    if baseline:
        names += [name for name in baseline.get("scenarios", {}) if name not in names]
    for name in names:
        print(f"\n{headings.get(name, name)}")
        current_scenario = report["scenarios"].get(name)
        old_scenario = (baseline or {}).get("scenarios", {}).get(name)
        for scenario, tag in ((current_scenario, "current"), (old_scenario, "baseline")):
            if isinstance(scenario, dict) and "skipped" in scenario:
                print(f"  {tag}: skipped: {scenario['skipped']}")
        for key, label in rows:
            current = lookup(report, name, key)
            if baseline is None:
                if current is not None:
                    print(f"  {label:40} {fmt(current):>10}")
                continue
            old = lookup(baseline, name, key)
            if current is None and old is None:
                continue
            print(f"  {label:40} {fmt(old):>10} → {fmt(current):<10} {change(old, current)}")
    print()


def write_report(report: dict[str, Any], out: Path | None) -> None:
    """With `--out`: the figures as JSON (folders made as needed)."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"figures written to {out}")
