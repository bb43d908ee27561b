"""Policies built from policies: cooldown, minimum trade size, maximum frequency, any-of, all-of.

Combinators read no market data themselves; their members screen inputs and refuse. A
suppression is reported (reason ``COOLDOWN``, ``BELOW_MIN_TRADE``, ``MAX_FREQUENCY`` or
``NOT_ALL`` with the combinator's name), never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hedgekeeper.policies._decision import nan_where, optional_positive, positive
from hedgekeeper.policies.base import (
    BoolArray,
    FloatArray,
    GreekTarget,
    HedgeTarget,
    IntArray,
    Policy,
    PolicyView,
    Reason,
)
from hedgekeeper.policies.calendar import TIME_TOLERANCE

_REFUSALS = np.array([Reason.REFUSED_NAN, Reason.REFUSED_STALE, Reason.REFUSED_MODEL])


def _check_policy(owner: str, name: str, policy: object) -> Policy:
    if not isinstance(policy, Policy):
        raise ValueError(f"{owner}: {name} must be a Policy (with a decide method), got {policy!r}")
    return policy


def _suppress(
    target: HedgeTarget, mask: BoolArray, reason: Reason, owner: str
) -> HedgeTarget:
    """``target`` with the elements in ``mask`` turned into holds with ``reason`` and ``owner``."""
    keep = target.rebalance & ~mask

    def blank(greek: GreekTarget | None) -> GreekTarget | None:
        if greek is None:
            return None
        return GreekTarget(
            nan_where(keep, greek.target),
            nan_where(keep, greek.lower),
            nan_where(keep, greek.upper),
        )

    return HedgeTarget(
        rebalance=keep,
        reason=np.where(mask, np.int16(reason), target.reason).astype(np.int16),
        policy=np.where(mask, owner, target.policy),
        delta=blank(target.delta),
        gamma=blank(target.gamma),
        vega=blank(target.vega),
        weights=None if target.weights is None else nan_where(keep, target.weights),
    )


class Cooldown:
    """Suppress a member's trades within ``min_interval`` of the last rebalance.

    Rule: an element that fires is held (reason ``COOLDOWN``) when
    ``time - last_rebalance_time < min_interval``; never rebalanced (NaN) is not cooling.

    Parameters
    ----------
    policy : the member policy.
    min_interval : years, > 0.
    """

    def __init__(self, policy: Policy, min_interval: float) -> None:
        self.policy = _check_policy("Cooldown", "policy", policy)
        self.min_interval = positive("Cooldown", "min_interval", min_interval)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """The member's decision with trades during the cooldown suppressed."""
        inner = self.policy.decide(view)
        if inner is None:
            return None
        last = view.require("last_rebalance_time", "Cooldown")
        with np.errstate(invalid="ignore"):
            cooling = view.time - last < self.min_interval - TIME_TOLERANCE
        return _suppress(inner, inner.rebalance & cooling, Reason.COOLDOWN, "Cooldown")


class MinTradeSize:
    """Suppress trades smaller than a minimum size.

    Rule: an element that fires is held (reason ``BELOW_MIN_TRADE``) when every trade it
    asks for that can be measured is below its minimum: ``|target_delta - net_delta|`` against
    ``min_delta`` (coin) and/or, times spot, against ``min_delta_usd``; the one-way turnover
    ``Σ|w' - w| / 2`` against ``min_turnover``. Elements with gamma or vega targets are never
    suppressed (their option trades are sized later, by the hedge solver).

    Parameters
    ----------
    policy : the member policy.
    min_delta : coin, > 0, or None.
    min_delta_usd : USD, > 0, or None.
    min_turnover : fraction of portfolio value, > 0, or None. At least one minimum is required.
    """

    def __init__(
        self,
        policy: Policy,
        min_delta: float | None = None,
        min_delta_usd: float | None = None,
        min_turnover: float | None = None,
    ) -> None:
        self.policy = _check_policy("MinTradeSize", "policy", policy)
        self.min_delta = optional_positive("MinTradeSize", "min_delta", min_delta)
        self.min_delta_usd = optional_positive("MinTradeSize", "min_delta_usd", min_delta_usd)
        self.min_turnover = optional_positive("MinTradeSize", "min_turnover", min_turnover)
        if self.min_delta is None and self.min_delta_usd is None and self.min_turnover is None:
            raise ValueError("MinTradeSize: give min_delta, min_delta_usd or min_turnover")

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """The member's decision with too-small trades suppressed."""
        inner = self.policy.decide(view)
        if inner is None:
            return None
        n = view.size
        measured = np.zeros(n, dtype=np.bool_)
        large = np.zeros(n, dtype=np.bool_)
        with np.errstate(invalid="ignore"):
            if inner.delta is not None:
                has = np.isfinite(inner.delta.target)
                trade = np.abs(inner.delta.target - view.net_delta)
                for minimum, size in (
                    (self.min_delta, trade),
                    (self.min_delta_usd, trade * view.spot),
                ):
                    if minimum is not None:
                        measured |= has
                        large |= has & (size >= minimum)
            if inner.weights is not None and self.min_turnover is not None:
                weights = view.require("weights", "MinTradeSize")
                has = np.all(np.isfinite(inner.weights), axis=1)
                turnover = 0.5 * np.sum(np.abs(inner.weights - weights), axis=1)
                measured |= has
                large |= has & (turnover >= self.min_turnover)
        unmeasured = np.zeros(n, dtype=np.bool_)
        for greek in (inner.gamma, inner.vega):
            if greek is not None:
                unmeasured |= np.isfinite(greek.target)
        small = inner.rebalance & measured & ~large & ~unmeasured
        return _suppress(inner, small, Reason.BELOW_MIN_TRADE, "MinTradeSize")


class MaxFrequency:
    """Allow at most ``max_count`` rebalances in any trailing ``window``.

    Rule: an element that fires is held (reason ``MAX_FREQUENCY``) when
    ``#{τ in recent_rebalance_times : time - window < τ <= time} >= max_count``. With
    ``max_count = 1`` ``view.last_rebalance_time`` suffices; otherwise the view must carry
    ``recent_rebalance_times`` with at least ``max_count`` columns.

    Parameters
    ----------
    policy : the member policy.
    max_count : int >= 1.
    window : years, > 0.
    """

    def __init__(self, policy: Policy, max_count: int, window: float) -> None:
        self.policy = _check_policy("MaxFrequency", "policy", policy)
        if isinstance(max_count, bool) or not isinstance(max_count, int | np.integer):
            raise ValueError(f"MaxFrequency: max_count must be an integer >= 1, got {max_count!r}")
        if max_count < 1:
            raise ValueError(f"MaxFrequency: max_count must be an integer >= 1, got {max_count!r}")
        self.max_count = int(max_count)
        self.window = positive("MaxFrequency", "window", window)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """The member's decision with trades beyond the frequency cap suppressed."""
        inner = self.policy.decide(view)
        if inner is None:
            return None
        times = self._times(view)
        with np.errstate(invalid="ignore"):
            recent = (times > (view.time - self.window + TIME_TOLERANCE)[:, None]) & (
                times <= (view.time + TIME_TOLERANCE)[:, None]
            )
        over = recent.sum(axis=1) >= self.max_count
        return _suppress(inner, inner.rebalance & over, Reason.MAX_FREQUENCY, "MaxFrequency")

    def _times(self, view: PolicyView) -> FloatArray:
        if view.recent_rebalance_times is not None:
            times = view.recent_rebalance_times
            if times.shape[1] < self.max_count:
                raise ValueError(
                    f"view.recent_rebalance_times has {times.shape[1]} columns; "
                    f"MaxFrequency(max_count={self.max_count}) needs at least {self.max_count}"
                )
            return times
        if self.max_count == 1:
            return view.require("last_rebalance_time", "MaxFrequency")[:, None]
        return view.require("recent_rebalance_times", "MaxFrequency")


def _members(owner: str, policies: Sequence[Policy]) -> tuple[Policy, ...]:
    if len(policies) == 0:
        raise ValueError(f"{owner}: policies must hold at least one policy")
    return tuple(_check_policy(owner, f"policies[{i}]", p) for i, p in enumerate(policies))


def _hold(n: int, owner: str) -> HedgeTarget:
    return HedgeTarget(
        rebalance=np.zeros(n, dtype=np.bool_),
        reason=np.zeros(n, dtype=np.int16),
        policy=np.full(n, owner),
    )


def _merge(
    results: list[HedgeTarget],
    pick: IntArray,
    rebalance: BoolArray,
    reason: IntArray,
    policy: np.ndarray[tuple[int], np.dtype[np.str_]],
    fill_from_any: bool,
) -> HedgeTarget | None:
    """Assemble one decision: element ``i`` takes its targets from ``results[pick[i]]``; with
    ``fill_from_any`` a field the picked member lacks comes from the first member that has it."""
    n = rebalance.shape[0]
    if not np.any(reason != Reason.HOLD):
        return None
    rows = np.arange(n)

    def gather(values: list[FloatArray | None]) -> FloatArray | None:
        if all(v is None for v in values):
            return None
        shape = next(v.shape for v in values if v is not None)
        stack = np.full((len(values), *shape), np.nan)
        for j, v in enumerate(values):
            if v is not None:
                stack[j] = v
        chosen = stack[np.maximum(pick, 0), rows]
        if fill_from_any:
            for j in range(len(values)):
                if values[j] is not None:
                    missing = np.isnan(chosen)
                    chosen = np.where(missing, stack[j, rows], chosen)
        return nan_where(rebalance, chosen)

    def greek(name: str) -> GreekTarget | None:
        parts = [getattr(r, name) for r in results]
        target = gather([None if p is None else p.target for p in parts])
        if target is None:
            return None
        lower = gather([None if p is None else p.lower for p in parts])
        upper = gather([None if p is None else p.upper for p in parts])
        return GreekTarget(target, _nan_if_none(lower, target), _nan_if_none(upper, target))

    return HedgeTarget(
        rebalance=rebalance,
        reason=reason,
        policy=policy,
        delta=greek("delta"),
        gamma=greek("gamma"),
        vega=greek("vega"),
        weights=gather([r.weights for r in results]),
    )


def _nan_if_none(values: FloatArray | None, like: FloatArray) -> FloatArray:
    return np.full_like(like, np.nan) if values is None else values


def _first(mask: BoolArray) -> IntArray:
    """Index of the first True along axis 0 per column, -1 where none."""
    found = mask.any(axis=0)
    return np.where(found, np.argmax(mask, axis=0), -1).astype(np.int16)


class AnyOf:
    """Rebalance when any member fires; members earlier in the list take precedence.

    Rule: an element refused by any member is refused (the first refusal is reported:
    a bad input is never traded through by another member); otherwise the first member that
    fires sets the reason and targets; otherwise the first non-hold reason (a suppression)
    is reported.

    Parameters
    ----------
    policies : one or more member policies, in order of precedence.
    """

    def __init__(self, *policies: Policy) -> None:
        self.policies = _members("AnyOf", policies)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Combine the members' decisions element by element."""
        n = view.size
        results = [p.decide(view) or _hold(n, "AnyOf") for p in self.policies]
        reasons = np.stack([r.reason for r in results])
        fired = np.stack([r.rebalance for r in results])
        refused = np.isin(reasons, _REFUSALS)
        noted = reasons != Reason.HOLD
        pick = np.where(
            refused.any(axis=0),
            _first(refused),
            np.where(fired.any(axis=0), _first(fired), _first(noted)),
        ).astype(np.int16)
        rebalance = np.asarray(fired.any(axis=0) & ~refused.any(axis=0), dtype=np.bool_)
        index = np.maximum(pick, 0)
        rows = np.arange(n)
        reason = np.where(pick >= 0, reasons[index, rows], Reason.HOLD).astype(np.int16)
        names = np.stack([r.policy for r in results])
        policy = np.where(pick >= 0, names[index, rows], "AnyOf")
        return _merge(results, pick, rebalance, reason, policy, fill_from_any=False)


class AllOf:
    """Rebalance only when every member fires.

    Rule: refused by any member -> refused (first refusal reported); all members fire ->
    rebalance with the first member's reason, targets from the first member that states each
    target; some but not all fire -> hold with reason ``NOT_ALL``; none fire -> the first
    non-hold reason, else hold.

    Parameters
    ----------
    policies : one or more member policies.
    """

    def __init__(self, *policies: Policy) -> None:
        self.policies = _members("AllOf", policies)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Combine the members' decisions element by element."""
        n = view.size
        results = [p.decide(view) or _hold(n, "AllOf") for p in self.policies]
        reasons = np.stack([r.reason for r in results])
        fired = np.stack([r.rebalance for r in results])
        refused = np.isin(reasons, _REFUSALS)
        any_refused = refused.any(axis=0)
        rebalance = np.asarray(fired.all(axis=0) & ~any_refused, dtype=np.bool_)
        partial = fired.any(axis=0) & ~rebalance & ~any_refused
        noted = reasons != Reason.HOLD
        pick = np.where(
            any_refused, _first(refused), np.where(rebalance, 0, _first(noted))
        ).astype(np.int16)
        index = np.maximum(pick, 0)
        rows = np.arange(n)
        reason = np.where(pick >= 0, reasons[index, rows], Reason.HOLD)
        reason = np.where(partial, Reason.NOT_ALL, reason).astype(np.int16)
        names = np.stack([r.policy for r in results])
        policy = np.where(pick >= 0, names[index, rows], "AllOf")
        policy = np.where(partial, "AllOf", policy)
        return _merge(results, pick, rebalance, reason, policy, fill_from_any=True)
