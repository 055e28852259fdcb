"""Reading a Prometheus exposition (prometheus-client's own parser), for tests and benchmarks."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["by_series", "processes"]


def by_series(text: str) -> dict[str, float]:
    """Every sample as `name{label="value",...}` (labels sorted, `process` left out) -> value.

    Samples without other labels are keyed by their bare name (`promptlink_snmp_queue_depth`).
    """
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()) if k != "process")
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = float(sample.value)
    return values


def processes(text: str) -> set[str | None]:
    """The `process` label values of every sample (None for a sample without one)."""
    return {
        sample.labels.get("process") for family in text_string_to_metric_families(text) for sample in family.samples
    }
