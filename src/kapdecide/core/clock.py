"""The assessment's time zone: where "today" and the end of the as-of day are.

One zone for a whole run (``--tz``, default UTC), so that the default assessment date and every
time-stamped value are read the same way whatever the host's zone is. A time stamp with an offset
is an instant: its calendar day is the day in this zone (``2026-11-22T08:00+11:00`` is 2026-11-21 in
UTC). A time stamp without an offset, or a plain date, is taken as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ZONE: ContextVar[dt.tzinfo] = ContextVar("kapdecide_zone", default=dt.UTC)


def zone_named(name: str) -> dt.tzinfo:
    """An IANA time zone (``Europe/Paris``) or ``UTC``; ValueError with what to write instead."""
    if name.upper() in ("UTC", "Z"):
        return dt.UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: give an IANA name such as Europe/London, or UTC") from None


@contextmanager
def using(zone: dt.tzinfo) -> Iterator[None]:
    """Read times in ``zone`` within the block."""
    token = _ZONE.set(zone)
    try:
        yield
    finally:
        _ZONE.reset(token)


def set_zone(zone: dt.tzinfo) -> None:
    """Read times in ``zone`` from now on (the command line sets it once per run)."""
    _ZONE.set(zone)


def zone() -> dt.tzinfo:
    """The run's time zone (``--tz``, default UTC)."""
    return _ZONE.get()


def today() -> dt.date:
    """Today in the run's zone (not the host's)."""
    return dt.datetime.now(_ZONE.get()).date()


def local_day(stamp: dt.datetime) -> dt.date:
    """The calendar day of a time stamp in the run's zone (as written when it has no offset)."""
    return stamp.date() if stamp.tzinfo is None else stamp.astimezone(_ZONE.get()).date()
