"""``hedgekeeper simulate-hedge``: Monte Carlo of writing (or buying) one option and hedging it.

Usage::

    hedgekeeper simulate-hedge --spot S --strike K --rate R --vol V --drift MU --maturity T
        --rebalance-every DT --paths N --seed SEED [--kind call|put] [--position short|long]
        [--cost-bps C] [--policy NAME ...] [--json]

The textbook experiment (Hull, *Options, Futures, and Other Derivatives*, section "Delta
hedging", Table 19.4): spot follows geometric Brownian motion with drift ``MU`` and volatility
``V`` on a grid of step ``DT``; one European option struck at ``K`` expiring at ``T`` is written
(or bought) at its Black-Scholes price and hedged with the underlying at every grid date (or by
each ``--policy``), cash borrowed or lent at ``R``; at expiry the option is settled physically
against the hedge (only the rest of the hedge is traded). ``--cost-bps`` charges a proportional
cost on every hedge trade. All policies run on the same paths.

Heavy imports stay inside the command body so ``hedgekeeper --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from hedgekeeper.cli._errors import fail

if TYPE_CHECKING:
    from hedgekeeper.policies import Policy

YEAR_UNITS: dict[str, float] = {
    "y": 1.0,
    "w": 1.0 / 52.0,
    "d": 1.0 / 365.0,
    "h": 1.0 / (365.0 * 24.0),
    "m": 1.0 / (365.0 * 24.0 * 60.0),
}
"""Duration suffixes in years: ``w`` = 1/52 year (Hull's weeks), ``d`` = 1/365, ``h``, ``m``
(minutes) on ACT/365; no suffix means years."""

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([ywdhm]?)\s*$")

MAX_VALUES_PER_BATCH = 2_000_000
"""Paths are simulated in batches of at most this many prices (memory stays ~16 MB a batch)."""

POLICY_HELP = (
    "Hedging policy, repeatable (all run on the same paths): "
    "'every-step' (rebalance to zero delta at every date; the default); "
    "'delta-band:H' or 'delta-band:H:edge' (DeltaBand, half-width H coin per option, trade back "
    "to zero or to the band edge); 'whalley-wilmott:G' (WhalleyWilmottBand, risk aversion G "
    "per USD, cost = --cost-bps); 'zakamouline:G' (ZakamoulineBand, same parameters); 'leland' "
    "or 'leland:INTERVAL' (LelandDelta: Leland vol with round-trip cost 2 x --cost-bps, every "
    "--rebalance-every or INTERVAL); 'calendar:INTERVAL' (Calendar, every INTERVAL, a duration "
    "like --maturity). The policy is consulted at every grid date."
)

UNITS: dict[str, str] = {
    "option_price": "USD per option: Black-Scholes price at --vol and --rate",
    "hedge_cost_mean": "USD per option: present value of the cost of writing (buying) and "
    "hedging the option (premium minus hedged P&L; ~option_price for a written option)",
    "hedge_cost_std": "USD per option: standard deviation of that cost over the paths",
    "performance": "hedge_cost_std / option_price (Hull's performance measure)",
    "pnl_mean": "USD per option: hedged P&L, present value, premium included",
    "pnl_cvar_95": "USD per option: mean P&L of the worst 5 % of paths (negative = loss)",
    "transaction_cost_mean": "USD per option: present value of --cost-bps costs paid",
    "rebalances_mean": "hedge trades per path (the initial hedge included)",
    "turnover_mean": "coin of underlying traded per path",
    "max_abs_delta_deviation_mean": "coin: mean over paths of the largest |net delta| seen before "
    "trading at a decision date after the first",
}


def parse_duration(option: str, text: str) -> float:
    """A duration in years from ``"0.3846"``, ``"20w"``, ``"0.5w"``, ``"1d"``, ``"8h"``, ``"30m"``.

    Raises ``ValueError`` naming ``option`` when the text is malformed or not > 0.
    """
    match = _DURATION.match(text)
    value = float(match.group(1)) * YEAR_UNITS[match.group(2) or "y"] if match else math.nan
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(
            f"{option} must be a duration > 0: years as a number, or a number with a unit "
            f"w (1/52 year), d (1/365), h, m (minutes), e.g. 20w, 1d, 8h, 30m; got {text!r}"
        )
    return value


def _policy_number(spec: str, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"--policy {spec!r}: {what} must be a number > 0, got {text!r}")
    return value


def parse_policy(spec: str, rebalance_every: float, cost_bps: float) -> Policy | None:
    """The policy named by ``spec`` (see ``--help``); None is the every-date default."""
    from hedgekeeper.policies import (
        Calendar,
        DeltaBand,
        LelandDelta,
        WhalleyWilmottBand,
        ZakamoulineBand,
    )

    name, _, arguments = spec.strip().partition(":")
    parts = arguments.split(":") if arguments else []
    cost = cost_bps / 1e4
    if name == "every-step" and not parts:
        return None
    if name == "delta-band" and len(parts) in (1, 2):
        halfwidth = _policy_number(spec, parts[0], "the half-width (coin)")
        if len(parts) == 2 and parts[1] not in ("edge", "centre"):
            raise ValueError(f"--policy {spec!r}: the third part must be 'edge' or 'centre'")
        return DeltaBand(halfwidth, hedge_to="edge" if parts[1:] == ["edge"] else "centre")
    if name == "whalley-wilmott" and len(parts) == 1:
        aversion = _policy_number(spec, parts[0], "the risk aversion (1/USD)")
        return WhalleyWilmottBand(cost=cost, risk_aversion=aversion)
    if name == "zakamouline" and len(parts) == 1:
        aversion = _policy_number(spec, parts[0], "the risk aversion (1/USD)")
        return ZakamoulineBand(cost=cost, risk_aversion=aversion)
    if name == "leland" and len(parts) <= 1:
        interval = parse_duration(f"--policy {spec!r}", parts[0]) if parts else rebalance_every
        return LelandDelta(cost_round_trip=2.0 * cost, interval=interval)
    if name == "calendar" and len(parts) == 1:
        return Calendar(parse_duration(f"--policy {spec!r}", parts[0]))
    raise ValueError(
        f"--policy {spec!r} is not a known policy: expected every-step, delta-band:H[:edge], "
        "whalley-wilmott:G, zakamouline:G, leland[:INTERVAL] or calendar:INTERVAL"
    )


def _grid_steps(maturity: float, rebalance_every: float) -> int:
    steps = round(maturity / rebalance_every)
    if steps < 1 or abs(steps * rebalance_every - maturity) > 1e-9 * max(maturity, 1.0):
        raise ValueError(
            f"--maturity must be a whole number of --rebalance-every steps, got "
            f"{maturity:.6g} / {rebalance_every:.6g} years = {maturity / rebalance_every:.6g}"
        )
    return steps


def _check_inputs(
    spot: float,
    strike: float,
    rate: float,
    vol: float,
    drift: float,
    paths: int,
    kind: str,
    position: str,
    cost_bps: float,
) -> None:
    for option, value in (("--spot", spot), ("--strike", strike), ("--vol", vol)):
        if not (math.isfinite(value) and value > 0.0):
            raise ValueError(f"{option} must be a finite number > 0, got {value!r}")
    for option, value in (("--rate", rate), ("--drift", drift)):
        if not math.isfinite(value):
            raise ValueError(f"{option} must be a finite number, got {value!r}")
    if not (math.isfinite(cost_bps) and cost_bps >= 0.0):
        raise ValueError(f"--cost-bps must be a finite number >= 0, got {cost_bps!r}")
    if paths < 2:
        raise ValueError(f"--paths must be at least 2 (for a standard deviation), got {paths}")
    if kind not in ("call", "put"):
        raise ValueError(f"--kind must be 'call' or 'put', got {kind!r}")
    if position not in ("short", "long"):
        raise ValueError(f"--position must be 'short' or 'long', got {position!r}")


def run_simulation(
    spot: float,
    strike: float,
    rate: float,
    vol: float,
    drift: float,
    maturity: float,
    rebalance_every: float,
    paths: int,
    seed: int,
    kind: str = "call",
    position: str = "short",
    cost_bps: float = 0.0,
    policies: list[str] | None = None,
) -> dict[str, Any]:
    """Simulate and return the report (the ``--json`` object). Raises ``ValueError``."""
    import numpy as np

    from hedgekeeper.sim.montecarlo import HedgeCosts, HedgeResult, OptionBook, simulate_hedge
    from hedgekeeper.sim.paths import GeometricBrownianMotion

    _check_inputs(spot, strike, rate, vol, drift, paths, kind, position, cost_bps)
    steps = _grid_steps(maturity, rebalance_every)
    names = list(policies) if policies else ["every-step"]
    chosen = {name: parse_policy(name, rebalance_every, cost_bps) for name in dict.fromkeys(names)}
    side: Literal["short", "long"] = "short" if position == "short" else "long"
    book = OptionBook.single(kind, strike, maturity, vol, side)
    costs = HedgeCosts(fee_bps=cost_bps, settlement="physical")
    model = GeometricBrownianMotion(drift=drift, vol=vol)
    generator = np.random.default_rng(seed)
    batch = max(1, MAX_VALUES_PER_BATCH // (steps + 1))
    results: dict[str, list[HedgeResult]] = {name: [] for name in chosen}
    done = 0
    while done < paths:
        size = min(batch, paths - done)
        simulated = model.simulate(spot, rebalance_every, steps, size, generator)
        times = simulated.times
        times[-1] = maturity  # the grid ends on the expiry itself
        for name, policy in chosen.items():
            results[name].append(
                simulate_hedge(simulated.prices, times, book, policy, rate=rate, costs=costs)
            )
        done += size
    rows = []
    for name, parts in results.items():
        stats = HedgeResult.concatenate(parts).statistics().as_dict()
        rows.append({"name": name, **stats})
    first = {key: value for key, value in rows[0].items() if key != "name"}
    return {
        **first,
        "policy": rows[0]["name"],
        "policies": rows,
        "inputs": {
            "spot": spot,
            "strike": strike,
            "rate": rate,
            "vol": vol,
            "drift": drift,
            "maturity_years": maturity,
            "rebalance_every_years": rebalance_every,
            "steps": steps,
            "paths": paths,
            "seed": seed,
            "kind": kind,
            "position": position,
            "cost_bps": cost_bps,
            "settlement": "physical",
        },
        "units": UNITS,
    }


def _finite(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    inputs = report["inputs"]
    console = Console()
    if not console.is_terminal and console.width < 140:
        console = Console(width=140)  # piped output: room for the table
    console.print(
        f"[bold]{inputs['position']} {inputs['kind']}[/] S={inputs['spot']:g} "
        f"K={inputs['strike']:g} r={inputs['rate']:g} vol={inputs['vol']:g} "
        f"drift={inputs['drift']:g} T={inputs['maturity_years']:.6g}y, "
        f"{inputs['steps']} dates of {inputs['rebalance_every_years']:.6g}y, "
        f"{inputs['paths']:,} paths (seed {inputs['seed']}), cost {inputs['cost_bps']:g} bp; "
        f"Black-Scholes price {report['option_price']:.4f}",
        highlight=False,
    )
    table = Table(
        title="Cost of writing and hedging one option (present values, USD)", title_justify="left"
    )
    for header in (
        "policy",
        "cost mean",
        "cost std",
        "performance",
        "P&L CVaR95",
        "trading cost",
        "rebalances",
        "turnover",
        "max |delta|",
    ):
        if header == "policy":
            table.add_column(header, justify="left", no_wrap=True)
        else:
            table.add_column(header, justify="right")
    for row in report["policies"]:
        table.add_row(
            row["name"],
            f"{row['hedge_cost_mean']:.4f}",
            f"{row['hedge_cost_std']:.4f}",
            f"{row['performance']:.4f}",
            f"{row['pnl_cvar_95']:.4f}",
            f"{row['transaction_cost_mean']:.4f}",
            f"{row['rebalances_mean']:.2f}",
            f"{row['turnover_mean']:.3f}",
            f"{row['max_abs_delta_deviation_mean']:.3f}",
        )
    console.print(table)


def simulate_hedge_command(
    spot: Annotated[
        float, typer.Option("--spot", help="Spot price at the start, USD.", show_default=False)
    ],
    strike: Annotated[float, typer.Option("--strike", help="Strike, USD.", show_default=False)],
    rate: Annotated[
        float,
        typer.Option(
            "--rate",
            help="Risk-free rate, continuously compounded, fraction per year (0.05).",
            show_default=False,
        ),
    ],
    vol: Annotated[
        float,
        typer.Option(
            "--vol",
            help="Volatility, fraction per sqrt(year), used for the paths and the "
            "Black-Scholes price and delta.",
            show_default=False,
        ),
    ],
    drift: Annotated[
        float,
        typer.Option(
            "--drift",
            help="Real-world drift of the spot, continuously compounded per year.",
            show_default=False,
        ),
    ],
    maturity: Annotated[
        str,
        typer.Option(
            "--maturity",
            help="Time to expiry: years, or 20w, 1d, 8h, 30m (w = 1/52 year, d = 1/365 year).",
            show_default=False,
        ),
    ],
    rebalance_every: Annotated[
        str,
        typer.Option(
            "--rebalance-every",
            help="Grid step (hedge decision dates), a duration like --maturity; must divide it.",
            show_default=False,
        ),
    ],
    paths: Annotated[
        int, typer.Option("--paths", help="Number of simulated paths (>= 2).", show_default=False)
    ],
    seed: Annotated[int, typer.Option("--seed", help="Random seed.", show_default=False)],
    kind: Annotated[str, typer.Option("--kind", help="call or put.")] = "call",
    position: Annotated[
        str, typer.Option("--position", help="short (write the option) or long (buy it).")
    ] = "short",
    cost_bps: Annotated[
        float,
        typer.Option(
            "--cost-bps", help="Proportional cost of each hedge trade, basis points of notional."
        ),
    ] = 0.0,
    policy: Annotated[list[str] | None, typer.Option("--policy", help=POLICY_HELP)] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (statistics of the first policy at the top "
            "level, every policy under 'policies', inputs, units).",
        ),
    ] = False,
) -> None:
    """Monte Carlo of writing one option and hedging it (Hull's delta-hedging experiment)."""
    try:
        report = run_simulation(
            spot,
            strike,
            rate,
            vol,
            drift,
            parse_duration("--maturity", maturity),
            parse_duration("--rebalance-every", rebalance_every),
            paths,
            seed,
            kind=kind,
            position=position,
            cost_bps=cost_bps,
            policies=policy,
        )
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(_finite(report), allow_nan=False))
    else:
        _print_report(report)
