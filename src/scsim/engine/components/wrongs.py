"""Wrongs beyond misidentification: judgments for speech and officials' discretion.

Two kinds of observer write records that are wrongs whatever the points say (docs/sources.md):

- a court judging speech (`judges_speech`): the journalist who exposed corruption was ordered
  to apologise for defamation, was listed and could not get off (source 001). Its records are
  of things the person truly said; the listing, grade or refusal that follows punishes speech.
- officials acting at their discretion (`discretion`): enforcement can be arbitrary (000);
  people disappear and are "not even on level D" (004). Such a sensor's records are its false
  records (`false_records_per_year`), with no event behind them, of an event whose rule sets a
  grade or enters a list, so a grade is moved outside the point table.

Both are relabelled here, after observe (and inform) and before score: a judgment for speech
gets origin "speech_judgment", an official's record "discretion". Both origins are among the
ledger's false origins, so the score stage marks the person and everything that follows
(grades, listings, refusals, burdens) rests on a wrong (`truth` false), and the audit traces it
to its own mechanism.

    >>> wrongs = Wrongs.of(scenario, xp)            # None without such a sensor
    >>> records = misjudge(ctx, day, records).value  # after inform, before score
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from scsim.engine.components.observe import Records
from scsim.engine.components.outcome import Outcome
from scsim.engine.day import Component, Flow
from scsim.engine.ledger import ORIGIN
from scsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scsim.engine.context import Context

SPEECH, DISCRETION = "speech_judgment", "discretion"


@dataclass(frozen=True)
class Wrongs:
    speech: np.ndarray  # bool [K]: the sensor is a court judging speech
    discretion: np.ndarray  # bool [K]: the sensor is officials acting at their discretion

    @classmethod
    def of(cls, s: Scenario, xp: ModuleType) -> Wrongs | None:
        sensors = list(s.surveillance.sensors.values())
        speech = np.array([x.judges_speech for x in sensors], dtype=bool)
        discretion = np.array([x.discretion for x in sensors], dtype=bool)
        if not (speech.any() or discretion.any()):
            return None
        return cls(xp.asarray(speech), xp.asarray(discretion))


def misjudge(ctx: Context, day: int, records: Records) -> Outcome[Records]:
    """The day's records with the judgments for speech and the officials' records relabelled;
    counted (`speech_judgments`, `discretionary_records`)."""
    wrongs = ctx.params.mechanisms.wrongs
    if wrongs is None or len(records) == 0:
        return Outcome(records, _counts(0, 0))
    xp = ctx.xp
    speech = wrongs.speech[records.sensor] & (records.origin == ORIGIN["detected"])
    official = wrongs.discretion[records.sensor]
    origin = xp.where(speech, ORIGIN[SPEECH], records.origin)
    origin = xp.where(official, ORIGIN[DISCRETION], origin).astype(np.uint8)
    relabelled = Records(records.person, records.event, records.sensor, origin)
    return Outcome(relabelled, _counts(int(speech.sum()), int(official.sum())))


def _counts(speech: int, official: int) -> dict[str, int]:
    return {"speech_judgments": speech, "discretionary_records": official}


class Misjudge(Component):
    """Judgments for speech and officials' discretionary records are labelled as the wrongs
    they are, so that what follows from them is counted as such."""

    name, stage = "misjudge", "observe"
    reads = (
        "surveillance.sensors.<sensor>.judges_speech",
        "surveillance.sensors.<sensor>.discretion",
    )
    writes = ("speech_judgments", "discretionary_records")
    ledger = ("record/speech_judgment", "record/discretion")

    def step(self, ctx: Context, day: int, flow: Flow) -> None:
        assert flow.records is not None
        judged = misjudge(ctx, day, flow.records)
        flow.records = judged.value
        flow.columns.update(judged.metrics)
