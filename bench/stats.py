"""What every benchmark here reports about its samples."""

from __future__ import annotations


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]
