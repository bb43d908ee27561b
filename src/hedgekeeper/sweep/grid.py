"""Expand a sweep configuration into tasks: scenarios × policies × parameter values.

Pure: no I/O. A :class:`SweepTask` is small and picklable (it travels to Dask workers); the
policy object is built on the worker from its family name and parameters by
:func:`build_policy`, the same function the configuration check uses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hedgekeeper.policies import (
    Calendar,
    DeltaBand,
    LelandDelta,
    Policy,
    WeightBand,
    WhalleyWilmottBand,
    ZakamoulineBand,
)
from hedgekeeper.sweep.config import (
    MonteCarloScenario,
    SweepConfig,
    WeightsScenario,
)

ParamValue = float | str
Scenario = WeightsScenario | MonteCarloScenario


class PolicyGridError(ValueError):
    """A policy grid that cannot run: ``index`` is its position in ``[[policies]]``."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(f"policies[{index}]: {problem}")
        self.index = index
        self.problem = problem


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One cell of the grid: a scenario, a policy family and its parameter values.

    Attributes
    ----------
    task_id : position in the grid (scenario-major, then policy, then parameters).
    scenario : the scenario's name.
    scenario_kind : ``"weights"`` or ``"montecarlo"``.
    policy : the policy family (class name, e.g. ``"WeightBand"``).
    params : ``(name, value)`` pairs in the family's field order; durations in years, costs as
        fractions (defaults taken from the scenario are filled in).
    policy_index : position of the policy's grid in ``[[policies]]``.
    """

    task_id: int
    scenario: str
    scenario_kind: str
    policy: str
    params: tuple[tuple[str, ParamValue], ...]
    policy_index: int

    @property
    def label(self) -> str:
        """``WeightBand(relative=0.05, hedge_to=edge)``."""
        shown = ", ".join(f"{name}={_show(name, value)}" for name, value in self.params)
        return f"{self.policy}({shown})"

    def param_dict(self) -> dict[str, ParamValue]:
        """The parameters as a dict."""
        return dict(self.params)


DURATION_PARAMS = frozenset({"interval"})
"""Parameters in years that labels show as days or hours."""


def _show(name: str, value: ParamValue) -> str:
    if isinstance(value, str):
        return value
    if name in DURATION_PARAMS:
        hours = value * 365.0 * 24.0
        if abs(hours - round(hours)) < 1e-6 and round(hours) > 0:
            whole = round(hours)
            return f"{whole // 24}d" if whole % 24 == 0 else f"{whole}h"
    return f"{value:.6g}"


def _defaults(policy: str, scenario: Scenario) -> dict[str, ParamValue]:
    """Parameters a family takes from the scenario when the grid leaves them out."""
    if isinstance(scenario, MonteCarloScenario):
        if policy in ("WhalleyWilmottBand", "ZakamoulineBand"):
            return {"cost": scenario.cost_rate}
        if policy == "LelandDelta":
            return {"cost_round_trip": 2.0 * scenario.cost_rate}
    return {}


def build_policy(policy: str, params: dict[str, ParamValue]) -> Policy:
    """The policy object for a family name and its parameters (years, fractions).

    Raises ``ValueError`` from the policy's constructor (naming the parameter) or for an
    unknown family.
    """
    args: dict[str, Any] = dict(params)
    if policy == "Calendar":
        return Calendar(interval=args["interval"])
    if policy == "WeightBand":
        return WeightBand(
            absolute=args.get("absolute"), relative=args.get("relative"), hedge_to=args["hedge_to"]
        )
    if policy == "DeltaBand":
        return DeltaBand(args["halfwidth"], unit=args["unit"], hedge_to=args["hedge_to"])
    if policy == "WhalleyWilmottBand":
        return WhalleyWilmottBand(
            cost=args["cost"], risk_aversion=args["risk_aversion"], hedge_to=args["hedge_to"]
        )
    if policy == "ZakamoulineBand":
        return ZakamoulineBand(
            cost=args["cost"], risk_aversion=args["risk_aversion"], hedge_to=args["hedge_to"]
        )
    if policy == "LelandDelta":
        return LelandDelta(cost_round_trip=args["cost_round_trip"], interval=args["interval"])
    raise ValueError(f"unknown policy family {policy!r}")


def expand_grid(config: SweepConfig) -> list[SweepTask]:
    """Every (scenario, policy, parameter values) cell, scenario-major, in config order.

    A policy runs on every scenario whose kind it applies to, or only on the scenarios it
    names. Raises :class:`PolicyGridError` for a policy that names an unknown scenario or one
    of the wrong kind, or that runs on no scenario at all.
    """
    names = {scenario.name: scenario for scenario in config.scenarios}
    for index, grid in enumerate(config.policies):
        kinds = type(grid).APPLIES_TO
        if grid.scenarios is not None:
            for name in grid.scenarios:
                if name not in names:
                    raise PolicyGridError(
                        index, f"scenarios names {name!r}, which is not a scenario of this sweep"
                    )
                if names[name].kind not in kinds:
                    raise PolicyGridError(
                        index,
                        f"{grid.policy} runs on {' or '.join(kinds)} scenarios, not on "
                        f"{name!r} ({names[name].kind})",
                    )
        elif not any(scenario.kind in kinds for scenario in config.scenarios):
            raise PolicyGridError(
                index, f"{grid.policy} runs on {' or '.join(kinds)} scenarios; this sweep has none"
            )
    tasks: list[SweepTask] = []
    for scenario in config.scenarios:
        for index, grid in enumerate(config.policies):
            if scenario.kind not in type(grid).APPLIES_TO:
                continue
            if grid.scenarios is not None and scenario.name not in grid.scenarios:
                continue
            axes = {**{k: [v] for k, v in _defaults(grid.policy, scenario).items()}, **grid.axes()}
            for values in itertools.product(*axes.values()):
                params = tuple(
                    (name, float(value) if isinstance(value, int | float) else str(value))
                    for name, value in zip(axes, values, strict=True)
                )
                tasks.append(
                    SweepTask(
                        task_id=len(tasks),
                        scenario=scenario.name,
                        scenario_kind=scenario.kind,
                        policy=grid.policy,
                        params=params,
                        policy_index=index,
                    )
                )
    return tasks


def check_policies(config: SweepConfig) -> list[SweepTask]:
    """Expand the grid and build every cell's policy once; return the tasks.

    Raises :class:`PolicyGridError` (with the grid's index) naming the parameter values a
    policy rejects.
    """
    tasks = expand_grid(config)
    for task in tasks:
        try:
            build_policy(task.policy, task.param_dict())
        except ValueError as exc:
            raise PolicyGridError(task.policy_index, f"{task.label}: {exc}") from None
    return tasks


def grid_size(config: SweepConfig) -> int:
    """Number of tasks the configuration expands to."""
    return len(expand_grid(config))


__all__ = [
    "ParamValue",
    "PolicyGridError",
    "SweepTask",
    "build_policy",
    "check_policies",
    "expand_grid",
    "grid_size",
]
