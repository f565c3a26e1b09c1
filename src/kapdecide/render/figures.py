"""The chart report's pictures as geometry: numbers and labels that templates/figures.html.j2 draws
as inline SVG (no script, no fonts beyond the page's, printable in black and white: every series has
its own marker and every line its label).

- the blood-pressure readings by date (``report.patient.blood_pressure_readings``), with the
  protocol's thresholds (130/80, 140/90, ...) and the freshness cut-off drawn;
- "what would change": for each unknown that blocks the decision, the status at each value, a ladder;
- the days since last use of each substance against the withdrawal and relapse windows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kapdecide.render.chart import ChartInputs, Threshold
from kapdecide.render.plain import plain_value, plain_word
from kapdecide.render.summary import STATUS_LOOK

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kapdecide.assessment.report import BloodPressureReadingOut, WhatIf

WIDTH = 680
_KIND_WORD = {"contraindication": "contraindicated", "deferral": "defer", "caution": "caution"}
#: The windows the last-use picture draws (days since last use). From the shipped protocol's
#: sources (SEEDS, as its opioid rule's rationale says): withdrawal usually settles within 5-14 days,
#: and relapse risk is highest in the first 90 days. For orientation only: the rules decide.
USE_BANDS = (
    (0, 5, "acute", "first 5 days: withdrawal likely"),
    (5, 14, "settle", "5-14 days: withdrawal usually settles"),
    (14, 90, "relapse", "up to 90 days: relapse risk highest"),
)


@dataclass(frozen=True)
class Line:
    """A line with its label (``css`` names its style)."""

    x1: float
    y1: float
    x2: float
    y2: float
    css: str
    label: str = ""
    lx: float = 0
    ly: float = 0
    anchor: str = "start"


@dataclass(frozen=True)
class Mark:
    """A point (a reading, a last use) with what it shows."""

    x: float
    y: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    """An axis tick: where and its label."""

    at: float
    label: str


@dataclass(frozen=True)
class BpFigure:
    """The blood-pressure readings by date."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    thresholds: tuple[Line, ...]
    cutoff: Line | None
    stale_x: float | None
    """The stale region runs from the plot's left edge to here (readings there are not used)."""
    as_of: Line
    systolic: tuple[Mark, ...]
    diastolic: tuple[Mark, ...]
    systolic_path: str
    diastolic_path: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    description: str


def _nice(lo: float, hi: float, step: int) -> tuple[int, int]:
    return int(math.floor(lo / step) * step), int(math.ceil(hi / step) * step)


@dataclass(frozen=True)
class _Scale:
    """Dates to x and mmHg to y inside the plot box."""

    start: dt.date
    end: dt.date
    lo: int
    hi: int
    left: float = 46.0
    right: float = WIDTH - 132.0
    top: float = 12.0
    bottom: float = 196.0

    def x(self, day: dt.date) -> float:
        return round(self.left + (self.right - self.left) * (day - self.start).days / (self.end - self.start).days, 1)

    def y(self, mmhg: float) -> float:
        return round(self.bottom - (self.bottom - self.top) * (mmhg - self.lo) / (self.hi - self.lo), 1)


@dataclass(frozen=True)
class _Reading:
    day: dt.date
    systolic: int
    diastolic: int


def _bp_scale(readings: Sequence[_Reading], chart: ChartInputs) -> tuple[_Scale, list[Threshold]]:
    """The plot's date and pressure ranges: every reading, the freshness cut-off, the assessment day
    and the thresholds near the readings (180/110 only when a reading comes near it)."""
    first = min(r.day for r in readings)
    start = min(first, chart.cutoff or first) - dt.timedelta(days=2)
    end = max(chart.as_of, max(r.day for r in readings)) + dt.timedelta(days=2)
    if (end - start).days < 14:
        start = end - dt.timedelta(days=14)
    highest = max(r.systolic for r in readings)
    shown = [t for t in chart.thresholds if t.systolic <= max(highest + 10, 145)]
    low = min(60, *(r.diastolic - 10 for r in readings))
    lo, hi = _nice(low, max(150, highest + 10, *(t.systolic + 5 for t in shown)), 10)
    return _Scale(start, end, lo, hi), shown


def _threshold_lines(sc: _Scale, shown: list[Threshold]) -> tuple[Line, ...]:
    lines = []
    for t in shown:
        what = _KIND_WORD.get(t.kind, t.kind)
        for value, which in ((t.systolic, "systolic"), (t.diastolic, "diastolic")):
            at = sc.y(value)
            lines.append(
                Line(sc.left, at, sc.right, at, f"th th-{t.kind}", f"{value} {which}: {what}", sc.right + 6, at + 4)
            )
    return tuple(lines)


def bp_figure(recorded: Sequence[BloodPressureReadingOut], chart: ChartInputs) -> BpFigure | None:
    """The readings by date (oldest first, as the report lists them), or None when none was recorded."""
    if not recorded:
        return None
    readings = [
        _Reading(dt.date.fromisoformat(r["taken_on"]), r["systolic_mmhg"], r["diastolic_mmhg"]) for r in recorded
    ]
    sc, shown = _bp_scale(readings, chart)
    cutoff = stale_x = None
    if chart.cutoff is not None:
        cx = sc.x(chart.cutoff)
        stale_x = cx if cx > sc.left else None
        label = f"{chart.freshness_days}-day limit: older readings not used"
        cutoff = Line(cx, sc.top, cx, sc.bottom, "cutoff", label, cx + 4, sc.top + 10)
    ax = sc.x(chart.as_of)
    sys_marks = tuple(
        Mark(sc.x(r.day), sc.y(r.systolic), "sys", f"{r.day.isoformat()}: systolic {r.systolic}") for r in readings
    )
    dia_marks = tuple(
        Mark(sc.x(r.day), sc.y(r.diastolic), "dia", f"{r.day.isoformat()}: diastolic {r.diastolic}") for r in readings
    )
    span = (sc.end - sc.start).days
    tick_days = [sc.start + dt.timedelta(days=round(span * i / 4)) for i in range(5)]
    listed = "; ".join(f"{r.day.isoformat()} {r.systolic}/{r.diastolic}" for r in readings)
    return BpFigure(
        width=WIDTH,
        height=240,
        left=sc.left,
        right=sc.right,
        top=sc.top,
        bottom=sc.bottom,
        thresholds=_threshold_lines(sc, shown),
        cutoff=cutoff,
        stale_x=stale_x,
        as_of=Line(ax, sc.top, ax, sc.bottom, "asof", "assessed", ax - 4, sc.bottom - 6, "end"),
        systolic=sys_marks,
        diastolic=dia_marks,
        systolic_path=_path(sys_marks),
        diastolic_path=_path(dia_marks),
        x_ticks=tuple(Tick(sc.x(d), d.isoformat()) for d in tick_days),
        y_ticks=tuple(Tick(sc.y(v), str(v)) for v in range(sc.lo, sc.hi + 1, 20 if sc.hi - sc.lo > 100 else 10)),
        description=f"Blood-pressure readings (mmHg): {listed}.",
    )


def _path(marks: tuple[Mark, ...]) -> str:
    return " ".join(("M" if i == 0 else "L") + f"{m.x:g},{m.y:g}" for i, m in enumerate(marks))


# ---------------------------------------------------------------- what would change


@dataclass(frozen=True)
class Step:
    """One value of an unknown and the status it would give."""

    x: float
    width: float
    value: str
    status: str
    label: str
    added: str
    """The findings this value adds, by title."""
    added_count: int


@dataclass(frozen=True)
class Ladder:
    """The statuses an unknown would give, value by value."""

    title: str
    width: int
    height: int
    steps: tuple[Step, ...]


def status_word(status: str) -> str:
    """A status as a word in a sentence or a small box ("Eligible with precautions")."""
    words: dict[str, str] = {key: look[0].capitalize() for key, look in STATUS_LOOK.items()}
    return words.get(status, plain_word(status))


def ladders(what_would_change: list[WhatIf] | None, titles: dict[str, str] | None = None) -> tuple[Ladder, ...]:
    """One ladder per unknown that blocks the decision (``titles``: rule id -> title, for the findings
    a value adds)."""
    titles = titles or {}
    out = []
    for w in what_would_change or []:
        n = max(len(w["scenarios"]), 1)
        gap = 14.0
        step_w = round((WIDTH - gap * (n - 1)) / n, 1)
        steps = tuple(
            Step(
                x=round(i * (step_w + gap), 1),
                width=step_w,
                value="/".join(plain_value(val) for val in sc["values"].values()),
                status=sc["status"],
                label=status_word(sc["status"]),
                added=", ".join(titles.get(f, plain_word(f)) for f in sc["findings"]),
                added_count=len(sc["findings"]),
            )
            for i, sc in enumerate(w["scenarios"])
        )
        out.append(Ladder(w["label"], WIDTH, 64, steps))
    return tuple(out)


# ---------------------------------------------------------------- days since last use


@dataclass(frozen=True)
class Band:
    """A window of days since last use."""

    x: float
    width: float
    css: str
    label: str


@dataclass(frozen=True)
class UseRow:
    """One substance: its name, and where its last use falls (None: not recorded)."""

    y: float
    substance: str
    mark: Mark | None
    note: str


@dataclass(frozen=True)
class UseFigure:
    """Days since last use against the withdrawal and relapse windows."""

    width: int
    height: int
    left: float
    right: float
    bands: tuple[Band, ...]
    rows: tuple[UseRow, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[Band, ...]
    legend_y: float


def use_figure(chart: ChartInputs) -> UseFigure | None:
    """The last-use picture, or None without substances."""
    if not chart.last_use:
        return None
    left, right, row_h = 130.0, WIDTH - 20.0, 30.0
    known = [u.days for u in chart.last_use if u.days is not None]
    most = min(max([120, *[math.ceil((d + 10) / 30) * 30 for d in known]]), 365)

    def x(days: float) -> float:
        return round(left + (right - left) * min(days, most) / most, 1)

    top = 4.0
    bottom = top + row_h * len(chart.last_use)
    bands = tuple(Band(x(a), round(x(b) - x(a), 1), f"band-{css}", label) for a, b, css, label in USE_BANDS)
    rows = []
    for i, u in enumerate(chart.last_use):
        cy = top + row_h * i + row_h / 2
        name = plain_word(u.substance)
        if u.days is None or u.day is None:
            rows.append(UseRow(cy, name, None, "last use not recorded"))
            continue
        what = "last use not as prescribed" if u.nonprescribed else "last use"
        days = f"{u.days} day{'s' if u.days != 1 else ''}"
        more = " (beyond the scale)" if u.days > most else ""
        title = f"{name}: {what} {u.day.isoformat()}, {days} before the assessment{more}"
        rows.append(UseRow(cy, name, Mark(x(u.days), cy, "use", title), f"{days}{more}"))
    ticks = tuple(Tick(x(d), str(d)) for d in sorted({0, 5, 14, 30, 60, 90, most}) if d <= most)
    legend_y = bottom + 48
    legend = tuple(Band(10 + 225 * i, 12, f"band-{css}", label) for i, (_, _, css, label) in enumerate(USE_BANDS))
    return UseFigure(WIDTH, int(legend_y + 12), left, right, bands, tuple(rows), ticks, legend, legend_y)
