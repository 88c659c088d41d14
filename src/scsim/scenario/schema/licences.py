"""Licence points: a second point balance that only a licence's holders have.

A dog-owner's licence in Jinan (12 points, deductions for walking a dog unleashed or letting it
disturb others, the licence suspended and the dog taken at zero until the owner passes a test
on the rules) works as a driving licence's 12 points do. A licence names its holders' share,
their starting points, the behaviours that cost points, the service lost at zero and for how
long, the test before it is given back, and the yearly restoration of points.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from scsim.scenario.schema.fields import Days, Name, Probability, Share, Strict


class Licence(Strict):
    """A licence with points of its own, held by a share of people (the rest cannot lose it)."""

    holders_share: Share = Field(
        description="share of people who hold the licence (a static trait of the id: no bytes)"
    )
    points: int = Field(12, ge=1, le=1000, description="points every holder starts with")
    deductions: dict[Name, Annotated[int, Field(ge=1, le=1000)]] = Field(
        min_length=1,
        max_length=64,
        description="points (1 to 1000) a record of each behaviour (a `behaviour.events` name) "
        "costs a holder, whoever recorded it; a record of a non-holder costs nothing",
    )
    refuses: Name = Field(
        description="the service (`rulebook.services` name) lost when the points reach zero: the "
        "licence revoked, one refusal in the ledger (origin `licence`)"
    )
    revoked_days: Days = Field(
        30, description="days from the revocation to the test that may give the licence back"
    )
    test_pass: Probability = Field(
        0.9, description="chance a revoked holder passes the test on the rules at a sitting"
    )
    retest_days: Days = Field(30, description="days before a holder who failed sits it again")
    restore_days: int = Field(
        365,
        ge=1,
        le=3650,
        description="every so many days (from day 0) a holder's lost points are given back, "
        "unless the licence is revoked then",
    )
