"""Hand-built records: a model whose observe stage is followed, on chosen days, by records a
test writes itself, so that a stage's ledger rows can be checked one by one."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from scsim.engine.components.observe import Records
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import KINDS, ORIGIN, ORIGINS
from scsim.engine.model import Model


class Inject(Component):
    """Adds the given records to the day's records on their day (after observe)."""

    name, stage = "inject", "observe"

    def __init__(self, records: dict[int, list[tuple[int, str, str, str]]], model: Model) -> None:
        plan = model.rules.host_plan
        self.records = {
            day: Records(
                person=np.array([r[0] for r in rows], dtype=np.int64),
                event=np.array([plan.events.index(r[1]) for r in rows], dtype=np.int64),
                sensor=np.array([plan.sensors.index(r[2]) for r in rows], dtype=np.int64),
                origin=np.array([ORIGIN[r[3]] for r in rows], dtype=np.uint8),
            )
            for day, rows in records.items()
        }

    def step(self, ctx: Any, day: int, flow: Flow) -> None:
        assert flow.records is not None
        mine = self.records.get(day)
        if mine is not None:
            r = flow.records
            flow.records = Records(
                *(
                    np.concatenate([getattr(r, f.name), getattr(mine, f.name)])
                    for f in fields(Records)
                )
            )


def with_records(model: Model, records: dict[int, list[tuple[int, str, str, str]]]) -> Model:
    """The model with `records` (day -> [(person, event, sensor, origin)]) added after observe."""
    day = list(model.day.components)
    day.insert(model.day.names().index("observe") + 1, Inject(records, model))
    model.day.components = tuple(day)
    return model


def ledger_rows(model: Model, person: int) -> list[tuple[Any, ...]]:
    """A person's ledger rows as (day, kind, rule, delta, source, origin, truth), names spelled."""
    rows, names = model.rows, model.params.codes.vocabulary.names
    mine = np.flatnonzero(rows["entity"] == person)
    return [
        (
            int(rows["day"][i]),
            KINDS[rows["kind"][i]],
            names[rows["rule"][i]],
            int(rows["delta"][i]),
            names[rows["source"][i]],
            ORIGINS[rows["origin"][i]],
            bool(rows["truth"][i]),
        )
        for i in mine
    ]
