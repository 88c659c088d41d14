"""The [companies] section: company ratings, grades and joint punishment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from scsim.scenario.schema.fields import Days, Name, Probability, Rate, Strict
from scsim.scenario.schema.rulebook import Scale, check_tiling


class CompanyGrade(Strict):
    """A company grade: a range of the rating score (the tax rating's A is 90 and above)."""

    min: int = Field(ge=-30_000, le=30_000, description="the grade's lowest rating")
    max: int = Field(ge=-30_000, le=30_000, description="the grade's highest rating")
    description: str = Field("", description="what holding the grade means, in words")


class CompanyEvent(Strict):
    """Something a company does that its ratings count (tax arrears, a pollution fine, a failed
    product check, a labour violation, a political statement a regulator objects to)."""

    per_year: Rate = Field(description="base rate per company per year")
    detection: Probability = Field(1.0, description="chance an agency records it")
    detection_by_grade: dict[Name, Probability] = Field(
        default_factory=dict,
        description="the chance for a company in this grade instead (low-graded firms face more "
        "and unannounced inspections, 000, 004, so more of what they do is found)",
    )
    points: int = Field(ge=-10_000, le=10_000, description="points on the company's rating score")
    set_grade: Name | None = Field(
        None, description="a direct grade, at least this bad (the tax rating's direct D)"
    )
    lock_days: Days = Field(0, description="how long a direct grade stays fixed")
    description: str = Field("", description="what the event is, in words")
    foreign_only: bool = Field(
        False,
        description="the event happens to foreign-owned companies only (`foreign_share`): a "
        "political position such as a map or a post the authorities object to (foreign firms "
        "threatened with lower ratings, 004); `per_year` is per foreign company",
    )
    yield_to_pressure: Probability = Field(
        0.0,
        description="chance a company yields to the pressure before the record is made (it "
        "withdraws the map, apologises for the post, 004): no record, counted as yielded",
    )

    @model_validator(mode="after")
    def _lock_needs_grade(self) -> CompanyEvent:
        if self.lock_days and self.set_grade is None:
            raise ValueError("lock_days needs set_grade")
        return self


class Measure(Strict):
    """A measure of joint punishment or reward by one agency: the occasions on which it deals
    with a company (a tender, a licence application, a loan, a share issue, an inspection
    round) and the grades it then refuses, charges more, inspects again or excludes, or
    rewards (easier credit, procurement priority, tax incentives)."""

    per_year: Rate = Field(description="occasions per company per year")
    sanctioned_grades: list[Name] = Field(
        default_factory=list, description="grades the agency sanctions on such an occasion"
    )
    reward_grades: list[Name] = Field(
        default_factory=list, description="grades the agency rewards on such an occasion"
    )
    description: str = Field("", description="what the measure is, in words")


class Companies(Strict):
    """Company ratings and joint punishment (the corporate system, docs/sources.md "Companies").

    The companies are the population's employers (`population.employment_rate`,
    `company_mean_size`). Each has a rating score on `scale`, moved by its own recorded events,
    a share of its employees' deductions (`rulebook.rules.*.spillover.employer`) and its
    partners' grades; its grade follows the score every day (`assess_every_days = 1`) or at
    yearly assessments (365, the tax rating), or is set directly and locked by an event.
    Agencies act on grades through `measures`; the legal representative (the company's first
    employee) of a company in a `representative_grades` grade is put on a person list.
    """

    scale: Scale = Field(description="the rating score's range (the tax rating: 0 to 100)")
    base: int = Field(ge=-30_000, le=30_000, description="every company's starting score")
    grades: dict[Name, CompanyGrade] = Field(
        min_length=1, description="best first, tiling the scale"
    )
    assess_every_days: int = Field(
        1,
        ge=1,
        le=3650,
        description="grades follow the score every day (1) or only at assessments every so "
        "many days (365: the yearly tax rating); a direct grade applies at once either way",
    )
    reset_on_assessment: bool = Field(
        False, description="each assessment starts the next period's score from base again"
    )
    events: dict[Name, CompanyEvent] = Field(
        default_factory=dict,
        description="what companies do, by name: rates, detection and the rating points",
    )
    employee_points: dict[Name, Annotated[int, Field(ge=-10_000, le=10_000)]] = Field(
        default_factory=dict,
        description="points charged to the employer's rating for each recorded event of this "
        "type (behaviour.events) of one of its employees, for readings where people have no "
        "points to share (`spillover.employer` shares a fraction of them where they do)",
    )
    measures: dict[Name, Measure] = Field(
        default_factory=dict,
        description="agencies' measures by name: which grades they sanction or reward, and "
        "how often",
    )
    partners: int = Field(
        0,
        ge=0,
        le=16,
        description="suppliers and partners per company, in a procedural circulant graph of "
        "the companies of its region (even)",
    )
    partner_points: dict[Name, Annotated[int, Field(ge=-10_000, le=10_000)]] = Field(
        default_factory=dict,
        description="points each partner of a company in this grade carries (charged when the "
        "company enters the grade, given back when it leaves)",
    )
    representative_grades: list[Name] = Field(
        default_factory=list,
        description="grades whose company's legal representative is restricted personally",
    )
    representative_list: Name | None = Field(
        None, description="the person list (rulebook.lists) such a representative is put on"
    )
    list_companies: bool = Field(
        False,
        description="a company entering `representative_grades` is itself an entry on "
        "`representative_list` (the court list names companies as well as people, 000 [P]), "
        "its representatives restricted through it as before; it leaves when its grade moves "
        "out (company_list_entry and company_list_exit rows; companies_listed)",
    )
    foreign_share: Probability = Field(
        0.0,
        description="share of each region's companies that are foreign-owned (the last ids of "
        "its range: no bytes a company) [U]",
    )
    repair_per_year: Rate = Field(
        0.0,
        description="a company in a `repair_grades` grade repairs its credit at this rate per "
        "year (credit repair after correction, since 2020 [P]): its score goes back to base "
        "and a lock ends, so its grade follows the score again",
    )
    repair_grades: list[Name] = Field(
        default_factory=list, description="the grades a company can repair its way out of"
    )
    responsible_persons: int = Field(
        1,
        ge=1,
        le=4,
        description="people restricted with such a company: its first employees, the legal "
        "representative first, then its principal, responsible persons and actual controller",
    )

    @field_validator("grades")
    @classmethod
    def _grades_tile_the_scale(
        cls, grades: dict[str, CompanyGrade], info: ValidationInfo
    ) -> dict[str, CompanyGrade]:
        check_tiling(grades, info.data.get("scale"), "grade")
        return grades

    @model_validator(mode="after")
    def _consistent(self) -> Companies:
        if not self.scale.min <= self.base <= self.scale.max:
            raise ValueError(
                f"companies.base: {self.base} lies outside the scale "
                f"{self.scale.min}..{self.scale.max}"
            )
        if self.partners % 2:
            raise ValueError("companies.partners: must be even (partnership is symmetric)")
        if bool(self.representative_grades) != (self.representative_list is not None):
            raise ValueError(
                "companies.representative_list: representative_grades and representative_list "
                "go together"
            )
        used = [
            *((f"events.{n}.set_grade", e.set_grade) for n, e in self.events.items()),
            *(
                (f"events.{n}.detection_by_grade", g)
                for n, e in self.events.items()
                for g in e.detection_by_grade
            ),
            *(
                (f"measures.{n}.sanctioned_grades", g)
                for n, m in self.measures.items()
                for g in m.sanctioned_grades
            ),
            *(
                (f"measures.{n}.reward_grades", g)
                for n, m in self.measures.items()
                for g in m.reward_grades
            ),
            *(("partner_points", g) for g in self.partner_points),
            *(("representative_grades", g) for g in self.representative_grades),
            *(("repair_grades", g) for g in self.repair_grades),
        ]
        foreign = [n for n, e in self.events.items() if e.foreign_only]
        if foreign and self.foreign_share == 0:
            raise ValueError(
                f"companies.events.{foreign[0]}.foreign_only: no company is foreign-owned "
                "(companies.foreign_share is 0)"
            )
        if self.list_companies and self.representative_list is None:
            raise ValueError(
                "companies.list_companies: needs representative_list and representative_grades"
            )
        if bool(self.repair_grades) != (self.repair_per_year > 0):
            raise ValueError(
                "companies.repair_grades: repair_grades and repair_per_year go together"
            )
        for where, grade in used:
            if grade is not None and grade not in self.grades:
                raise ValueError(
                    f"companies.{where}: unknown grade {grade!r}; expected one of: "
                    f"{', '.join(self.grades)}"
                )
        return self
