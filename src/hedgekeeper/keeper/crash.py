"""Crash injection: ``HEDGEKEEPER_CRASH_AT=<step>:<n>`` kills the keeper with SIGKILL.

The keeper calls :meth:`CrashPoints.reached` at each step of the order lifecycle; the ``n``-th
time (1-based, counted in this process) it reaches ``step`` it sends itself ``SIGKILL`` — no
cleanup, no flush, no ``finally``: the same as a power cut to the process. Several points may be
given, comma-separated (``sent:1,fill_saved:3``). Used by the crash-injection tests and the soak.

Steps, in lifecycle order:

=================  ==========================================================================
decided            the decision is journalled, no intent yet
intent_saved       the intents are journalled (and the state after the decision), no order
sent               the order is journalled SUBMITTED, the request not yet made
ack_lost           the venue accepted the order, the keeper has not recorded its answer
partially_filled   the venue reports a partial fill the keeper has not recorded
fill_saved         a fill was just journalled
cancel_sent        the venue cancelled the rest, the keeper has not recorded it
cancel_race        a cancel came back with fills the keeper has not recorded (fill won the race)
reconciling        startup reconciliation has applied a venue report, not finished
=================  ==========================================================================
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CRASH_ENV = "HEDGEKEEPER_CRASH_AT"

STEPS = ("decided", "intent_saved", "sent", "ack_lost", "partially_filled", "fill_saved",
         "cancel_sent", "cancel_race", "reconciling")
"""Crash points, in lifecycle order."""


class CrashPoints:
    """Where to crash; parsed from ``HEDGEKEEPER_CRASH_AT`` (or given).

    Raises ``ValueError`` naming the variable for an unknown step or a bad count.
    """

    def __init__(self, spec: str | None = None) -> None:
        self.targets: dict[str, int] = {}
        self._seen: Counter[str] = Counter()
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            step, _, count = item.partition(":")
            if step not in STEPS:
                raise ValueError(f"{CRASH_ENV}: unknown step {step!r}; expected one of "
                                 f"{', '.join(STEPS)}")
            if not count:
                count = "1"
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"{CRASH_ENV}: {item!r}: the count must be an integer >= 1")
            self.targets[step] = int(count)

    @classmethod
    def from_environment(cls) -> CrashPoints:
        """Crash points from ``HEDGEKEEPER_CRASH_AT`` (none when unset)."""
        return cls(os.environ.get(CRASH_ENV))

    def reached(self, step: str) -> None:
        """Count ``step``; SIGKILL this process when it is the configured passage."""
        if not self.targets:
            return
        self._seen[step] += 1
        if self.targets.get(step) == self._seen[step]:
            os.kill(os.getpid(), signal.SIGKILL)
