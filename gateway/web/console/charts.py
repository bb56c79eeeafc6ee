"""Charts drawn on the server as SVG (no script, nothing fetched): bars for counts per interval.

The geometry is computed here and drawn by ``templates/_chart.html``; each chart also carries its
figures as a table for screen readers and for people who would rather read.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]          # x position, label (every few intervals)
    grid: list[tuple[float, int]]           # y position, value
    series: list[str]
    labels: list[str]
    values: list[list[int]]                 # per series, per interval


def _nice_top(top: int) -> int:
    """A round, even ceiling for the y axis (2, 4, 6, 10, 20, 40, 60, 100, ...): its half, a grid
    line, is a whole number too."""
    step = 1
    while True:
        for m in (2, 4, 6, 10):
            if step * m >= top:
                return step * m
        step *= 10


def grouped_bars(title: str, labels: list[str], series: list[tuple[str, list[int]]], width: int = 720,
                 height: int = 220, max_ticks: int = 12) -> Chart:
    left, right, top, bottom = 40, 8, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    ceiling = _nice_top(max([v for _, values in series for v in values], default=0) or 1)
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    bars = []
    for s, (_name, values) in enumerate(series):
        for i, value in enumerate(values):
            h = plot_h * value / ceiling
            bars.append(Bar(x=round(left + i * slot + slot * 0.1 + s * bar_w, 2), y=round(top + plot_h - h, 2),
                            width=round(bar_w, 2), height=round(h, 2), value=value, series=s, label=labels[i]))
    every = max(1, -(-len(labels) // max_ticks))
    ticks = [(round(left + i * slot + slot / 2, 2), label) for i, label in enumerate(labels) if i % every == 0]
    grid = [(round(top + plot_h - plot_h * f, 2), ceiling * n // 2) for n, f in ((0, 0), (1, 0.5), (2, 1))]
    return Chart(title=title, width=width, height=height, plot_top=top, plot_bottom=top + plot_h, bars=bars,
                 ticks=ticks, grid=grid, series=[name for name, _ in series], labels=labels,
                 values=[values for _, values in series])
