"""Market simulation: seeded, vectorised price path generators (:mod:`hedgekeeper.sim.paths`)."""

from hedgekeeper.sim.paths import (
    HOUR,
    HOURS_PER_YEAR,
    BlockBootstrap,
    Garch11,
    GeometricBrownianMotion,
    Heston,
    MertonJumpDiffusion,
    PathModel,
    Paths,
    as_generator,
    historical_replay,
)

__all__ = [
    "HOUR",
    "HOURS_PER_YEAR",
    "BlockBootstrap",
    "Garch11",
    "GeometricBrownianMotion",
    "Heston",
    "MertonJumpDiffusion",
    "PathModel",
    "Paths",
    "as_generator",
    "historical_replay",
]
