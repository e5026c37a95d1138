"""A PNG chart of the last days' monitoring figures."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward_trainer.monitoring import FIGURES

if TYPE_CHECKING:
    from steward_trainer.store import TrainerStore


async def render_report(
    store: TrainerStore, output: Path, *, tenant: str | None = None, days: int = 7
) -> Path:
    """Draw each figure's daily mean over the last `days` days into a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    since = datetime.now(UTC) - timedelta(days=days)
    rows = await store.daily_figures(tenant, since)
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for row in rows:
        series[FIGURES.get(row["metric"], row["metric"])].append((row["day"], row["value"]))

    figure, axes_any = plt.subplots(figsize=(9, 4.5))
    # matplotlib plots datetimes through its unit converters, which its stubs do not show.
    axes: Any = axes_any
    for name, points in sorted(series.items()):
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    axes.set_xlim(since, datetime.now(UTC))
    axes.set_ylim(0, 1.05)
    axes.set_title(f"Steward monitoring, last {days} days ({tenant or 'all tenants'})")
    axes.set_ylabel("daily mean")
    if series:
        axes.legend(loc="upper left", fontsize="small")
    else:
        axes.text(0.5, 0.5, "no observations", ha="center", transform=axes.transAxes)
    figure.autofmt_xdate()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return output
