"""Billing-period arithmetic in Stripe's style, on UTC epoch seconds.

Stripe anchors a subscription's periods on the billing-cycle anchor: period k of a monthly plan
starts on the anchor's day of month k months later, clamped to the month's last day (an anchor on
the 31st bills on 28 February, then on 31 March again). Every boundary is computed from the anchor,
never from the previous boundary, so clamping does not drift.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

DAY = 86_400
WEEK = 7 * DAY


def epoch(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0))


def add_months(anchor: int, months: int) -> int:
    """The anchor moved by whole calendar months, day clamped to the target month's length."""
    moment = datetime.fromtimestamp(anchor, UTC)
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    seconds_of_day = anchor % DAY
    return epoch(year, month + 1, min(moment.day, last_day)) + seconds_of_day


def period_boundary(anchor: int, interval: str, interval_count: int, k: int) -> int:
    """Start of the k-th billing period of a plan whose first period starts at the anchor."""
    if interval == "month":
        return add_months(anchor, k * interval_count)
    if interval == "year":
        return add_months(anchor, 12 * k * interval_count)
    if interval == "week":
        return anchor + k * interval_count * WEEK
    return anchor + k * interval_count * DAY


def month_start(moment: int) -> int:
    when = datetime.fromtimestamp(moment, UTC)
    return epoch(when.year, when.month, 1)
