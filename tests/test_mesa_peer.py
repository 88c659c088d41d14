"""scsim and its Mesa peer (benchmarks/peers) tell the same story at a small size.

The peer draws with Mesa's own random numbers, so the two never agree draw for draw; they must
agree in distribution. Over several seeds each, the final scores of both are compared with a
two-sample Kolmogorov-Smirnov test and their means with a bound of 5 standard errors.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mesa")
stats = pytest.importorskip("scipy.stats")

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from peers.mesa_model import SocialCreditModel  # noqa: E402

from scsim.engine.model import Model  # noqa: E402
from scsim.scenario import load_scenario  # noqa: E402

PEOPLE, DAYS, SEEDS = 8000, 90, (1, 2, 3)
OVERRIDES = {
    "population.size": PEOPLE,
    "run.days": DAYS,
    "behaviour.feedback": False,
    # more events than the city pilot's, so that the distributions have a shape to compare
    "behaviour.events.traffic_violation.per_year": 3.0,
    "behaviour.events.volunteering.per_year": 2.0,
    "behaviour.events.negative_post.per_year": 0.5,
}


def _scsim_scores(seed: int) -> np.ndarray:
    model = Model.build(load_scenario("rongcheng", overrides={**OVERRIDES, "run.seed": seed}))
    for day in range(DAYS):
        model.step(day)
        model.ledger.drain()
    return model.state.people.score.astype(np.int64)


def _mesa_scores(seed: int) -> np.ndarray:
    model = SocialCreditModel(load_scenario("rongcheng", overrides={**OVERRIDES, "run.seed": seed}))
    for _ in range(DAYS):
        model.step()
    return model.scores()


def test_mesa_peer_and_scsim_give_the_same_score_distribution() -> None:
    ours = np.concatenate([_scsim_scores(seed) for seed in SEEDS])
    peer = np.concatenate([_mesa_scores(seed) for seed in SEEDS])
    assert ours.std() > 5  # the scores moved: the test has something to compare
    assert stats.ks_2samp(ours, peer).pvalue > 1e-3
    bound = 5 * math.sqrt(ours.var() / ours.size + peer.var() / peer.size)
    assert abs(ours.mean() - peer.mean()) < bound
