"""The rulebook compiled into lookup tables: probabilities as integer thresholds, waits as
threshold tables, and the ledger's codes, computed once on the host (and moved to the device)
so that every per-person decision is an integer comparison on any backend.

    >>> tables = Tables.of(plan)         # tables.detect[k, s]: sensor k detects in stratum s
    >>> codes = Codes.of(plan, ("gray_market",))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scsim.engine.ledger import Vocabulary
from scsim.engine.plan import Plan
from scsim.engine.rng import geometric_cdf, libm, stack_cdfs, threshold
from scsim.engine.state import list_bit


@dataclass(frozen=True)
class Tables:
    """Probabilities as integer thresholds and waits as threshold tables, computed once on the
    host so that every per-person decision is an integer comparison on any backend."""

    detect: np.ndarray  # [K, S]
    misattribute: np.ndarray  # [K]
    deterred_keep: np.ndarray  # [256]: chance an offence survives w sanctions
    comply_cdf: tuple[np.ndarray, ...]  # per list
    comply_on_block: np.ndarray  # [L]
    kept: np.ndarray  # [L]: chance a leaver stays restricted (`listing.keep_restrictions`)
    cases_cdf: tuple[np.ndarray, ...]  # per list: cases a listing record brings (1, 2, ...)
    retry: np.ndarray  # [V]
    evasion: np.ndarray  # [V]
    demand_keep: np.ndarray  # [V, 256]: chance a new request survives w refusals suffered
    retry_cdf: tuple[np.ndarray, ...]  # per service
    retry_stacked: tuple[np.ndarray, np.ndarray]  # retry_cdf by `stack_cdfs`: one search a day
    appeal: np.ndarray  # [L, 2]: chance of appealing, [rightly, wrongly] listed
    appeal_win: np.ndarray  # [L, 2]: chance the appeal succeeds
    appeal_cdf: tuple[np.ndarray, ...]  # per list: days to the decision
    watched_twice: bool  # some event is watched by more than one sensor (see `observe`)
    grades_or_lists: np.ndarray  # bool [E]: a record of the event sets a grade or enters a list
    scoring: np.ndarray  # bool [E]: ... or moves points (`score`)
    # the reforms after 2019 (`components.reforms`) and restriction orders (`components.orders`)
    repair: np.ndarray  # [L]: daily chance of credit repair
    serious: np.ndarray  # [L]: chance a debtor's case is especially serious
    unable: np.ndarray  # [L]: chance a debtor is unable to perform
    exempt: np.ndarray  # [L]: chance a listing record is beyond the list's reach
    grace: np.ndarray  # [L]: chance a debtor performs within the grace period
    order: np.ndarray  # [L]: chance an unperformed case brings a restriction order
    lifted: np.ndarray  # [V]: chance a single measure is lifted for a person

    @classmethod
    def of(cls, plan: Plan) -> Tables:
        wary = np.minimum(np.arange(256), plan.deter_max)
        horizon = [int(t) if t > 0 else max(plan.days, 1) for t in plan.list_term]
        retry = tuple(geometric_cdf(1.0 / m, 3650) for m in plan.service_retry_mean)
        return cls(
            detect=threshold(plan.sensor_coverage * plan.sensor_detection[:, None]),
            misattribute=threshold(plan.sensor_misattribution),
            deterred_keep=threshold(libm(math.pow, 1.0 - plan.deter_per_sanction, wary)),
            comply_cdf=tuple(
                geometric_cdf(p, h) for p, h in zip(plan.list_comply_daily, horizon, strict=True)
            ),
            comply_on_block=threshold(plan.list_comply_on_block),
            kept=threshold(plan.list_kept),
            cases_cdf=tuple(geometric_cdf(1.0 / m, 100) for m in plan.list_cases_mean),
            retry=threshold(plan.service_retry),
            evasion=threshold(plan.service_evasion),
            demand_keep=threshold(
                libm(math.pow, 1.0 - plan.service_give_up[:, None], np.arange(256))
            ),
            retry_cdf=retry,
            retry_stacked=stack_cdfs(retry),
            appeal=threshold(plan.list_appeal),
            appeal_win=threshold(plan.list_appeal_win),
            appeal_cdf=tuple(geometric_cdf(1.0 / m, 3650) for m in plan.list_appeal_mean),
            watched_twice=bool((plan.sensor_events.sum(axis=0) > 1).any()),
            grades_or_lists=(plan.set_tier >= 0) | (plan.enter_list >= 0),
            scoring=(plan.points != 0) | (plan.set_tier >= 0) | (plan.enter_list >= 0),
            repair=threshold(plan.list_repair_daily),
            serious=threshold(plan.list_serious),
            unable=threshold(plan.list_unable),
            exempt=threshold(plan.list_exempt),
            grace=threshold(plan.list_grace),
            order=threshold(plan.list_order_share),
            lifted=threshold(plan.service_lifted),
        )


@dataclass(frozen=True)
class Codes:
    """Ledger codes of each event, sensor, tier, list and service (see `Vocabulary`)."""

    vocabulary: Vocabulary
    events: np.ndarray
    sensors: np.ndarray
    tiers: np.ndarray
    lists: np.ndarray
    services: np.ndarray
    # the code of the first list (in the scenario's order) whose flag bit is set in a flag
    # byte, 0 where none is: a refusal's `source` names the list that refused
    first_list: np.ndarray

    @classmethod
    def of(cls, plan: Plan, mechanisms: tuple[str, ...] = ()) -> Codes:
        v = Vocabulary.of(
            plan.events, plan.sensors, plan.tiers, plan.lists, plan.services, mechanisms
        )
        return cls(
            v,
            v.codes(plan.events),
            v.codes(plan.sensors),
            v.codes(plan.tiers),
            v.codes(plan.lists),
            v.codes(plan.services),
            _first_list(v.codes(plan.lists)),
        )


def _first_list(list_codes: np.ndarray) -> np.ndarray:
    flags = np.arange(256)
    first = np.zeros(256, dtype=np.int16)
    for index in reversed(range(len(list_codes))):  # the first list written last
        first[(flags & list_bit(index)) != 0] = list_codes[index]
    return first
