"""Lists (court blacklist, redlists): who enters on a record, and when and why each one leaves.

A person's exit is decided when they enter: the end of the term, or earlier if they comply
(pay up) first, drawn from the list's daily compliance chance. Later pressure (a blocked
purchase) may make them comply sooner (see `respond`). While listed, further records for the
same list do not list them again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scsim.backend import array_module
from scsim.ledger import ORIGIN
from scsim.pipeline.observe import Records
from scsim.rng import waiting_days
from scsim.state import list_bit

NEVER = np.iinfo(np.int32).max


@dataclass(frozen=True)
class ListChanges:
    entries: np.ndarray  # int64 [L]
    entries_wrongful: np.ndarray  # int64 [L]: entered on a record that was false
    published: np.ndarray  # int64 [L]
    expired: np.ndarray  # int64 [L]
    complied: np.ndarray  # int64 [L]

    @classmethod
    def zeros(cls, n: int) -> ListChanges:
        return cls(*(np.zeros(n, dtype=np.int64) for _ in range(5)))

    def __add__(self, other: ListChanges) -> ListChanges:
        return ListChanges(
            *(a + b for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True))
        )


def enter_lists(model, day: int, records: Records) -> ListChanges:  # type: ignore[no-untyped-def]
    plan, people = model.plan, model.people
    changes = ListChanges.zeros(len(plan.lists))
    target = plan.enter_list[records.event]
    for index in range(len(plan.lists)):
        mine = target == index
        if not bool(mine.any()):
            continue
        person, wrongful = _first_per_person(
            records.person[mine], records.origin[mine] != ORIGIN["detected"]
        )
        fresh = (people.flags[person] & list_bit(index)) == 0
        person, wrongful = person[fresh], wrongful[fresh]
        until, reason = _exit_plan(model, day, index, person)
        model.rosters[index].add(person, day, until, reason, wrongful)
        people.flags[person] |= list_bit(index)
        model.ledger.add(
            day,
            "list_entry",
            person,
            model.codes.lists[index],
            0,
            0,
            ORIGIN["record"],
            ~wrongful,
        )
        changes.entries[index] = person.size
        changes.entries_wrongful[index] = int(wrongful.sum())
        changes.published[index] = person.size if plan.list_publish[index] else 0
    return changes


def leave_lists(model, day: int) -> ListChanges:  # type: ignore[no-untyped-def]
    changes = ListChanges.zeros(len(model.plan.lists))
    for index, roster in enumerate(model.rosters):
        gone = roster.take_due(day)
        remove(model, day, index, gone)
        changes.expired[index] = int((gone["reason"] == ORIGIN["term_ended"]).sum())
        changes.complied[index] = int((gone["reason"] == ORIGIN["complied"]).sum())
    return changes


def remove(model, day: int, index: int, gone: dict[str, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
    """Clear the list's flag of the members a roster gave up, and write their exits."""
    person, reason = gone["ids"], gone["reason"]
    flags = model.people.flags
    flags[person] &= ~list_bit(index)
    model.ledger.add(
        day,
        "list_exit",
        person,
        model.codes.lists[index],
        0,
        0,
        reason,
        ~gone["wrongful"],
    )


def _exit_plan(model, day: int, index: int, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    xp = model.xp
    term = int(model.host_plan.list_term[index])
    cdf = model.tables.comply_cdf[index]
    wait = waiting_days(model.streams.key("comply", day, index), person, cdf)
    horizon = term if term > 0 else len(cdf)
    complies = wait <= horizon if term == 0 else wait < term
    until = xp.where(complies, day + wait, day + term if term > 0 else NEVER)
    reason = xp.where(complies, ORIGIN["complied"], ORIGIN["term_ended"]).astype(np.uint8)
    return until, reason


def _first_per_person(person: np.ndarray, false: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique people, each wrongful only if every one of their qualifying records was false."""
    xp = array_module(person)
    unique, inverse = xp.unique(person, return_inverse=True)
    true_records = xp.bincount(
        inverse.ravel(), weights=(~false).astype(np.float64), minlength=unique.size
    )
    return unique, true_records == 0
