"""Companies (issue 3): ratings from their own events, their employees' and their partners',
grades that follow the score daily or at assessments, direct grades, joint punishment by grade,
the legal representative restricted in person, and association spill-over to the employer and
beyond the first step. Each is off by default; switched off it leaves no trace, switched on it
acts at the configured rate, within bounds derived from the variance (fixed seeds)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from builders import assert_resumes_to_the_same_bytes, run_days, scenario
from conftest import assert_one_line_refusal, cli

import scsim
from scsim.engine.backend import gpu_available
from scsim.engine.ledger import COMPANY_KINDS, KIND, ORIGIN
from scsim.engine.model import Model
from scsim.errors import ScenarioError
from scsim.experiments.compare import no_system
from scsim.scenario import load_scenario

GRADES = {
    "A": {"min": 90, "max": 100},
    "B": {"min": 70, "max": 89},
    "C": {"min": 40, "max": 69},
    "D": {"min": 0, "max": 39},
}
FIRMS = {"base": 100, "scale": {"min": 0, "max": 100}, "grades": GRADES}
POSTS = {
    "behaviour": {"events": {"post": {"per_year": 2.0}}},
    "surveillance": {"sensors": {"net": {"events": ["post"], "detection": 1.0}}},
}


def _model(companies: dict | None = None, rule: dict | None = None, **sections) -> Model:  # type: ignore[no-untyped-def]
    rulebook = {"rules": {"post": {"points": -10, **(rule or {})}}, **sections.pop("rulebook", {})}
    extra = {} if companies is None else {"companies": {**FIRMS, **companies}}
    return Model.build(scenario(**POSTS, rulebook=rulebook, **extra, **sections))


def _rows(model: Model, kind: str, origin: str | None = None) -> dict[str, np.ndarray]:
    keep = model.rows["kind"] == KIND[kind]
    if origin is not None:
        keep &= model.rows["origin"] == ORIGIN[origin]
    return {k: v[keep] for k, v in model.rows.items()}


def _total(rows: list[dict], column: str) -> int:
    return sum(int(row[column]) for row in rows)


def _poisson_within(count: int, mean: float, sds: float = 4.0) -> None:
    assert mean > 100, f"too few expected ({mean:.0f}) for a statistical check"
    assert abs(count - mean) <= sds * math.sqrt(mean), f"{count}, expected {mean:.1f}"


def _binomial_within(hits: int, n: int, p: float, sds: float = 4.0) -> None:
    assert n > 100, f"too few trials ({n}) for a statistical check"
    sd = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) <= sds * sd + 1, f"{hits} of {n}, expected {n * p:.1f} +- {sd:.1f}"


# ---------------------------------------------------------------- off by default


def test_without_a_companies_section_no_company_is_rated_and_no_column_appears() -> None:
    model = _model()
    rows = run_days(model, 10)
    assert model.state.companies is None
    assert not any(column.startswith(("company_", "representatives_")) for column in rows[0])
    assert not np.isin(model.rows["kind"], [KIND[k] for k in COMPANY_KINDS]).any()


def test_every_builtin_but_corporate_leaves_companies_off() -> None:
    for name in scsim.scenario.builtin_names():
        assert (load_scenario(name).companies is not None) == (name == "corporate"), name


# ---------------------------------------------------------------- own events


def test_company_events_are_recorded_at_rate_times_detection() -> None:
    days, per_year, detection = 30, 20.0, 0.4
    events = {"tax_arrears": {"per_year": per_year, "detection": detection, "points": -1}}
    model = _model({"events": events})
    rows = run_days(model, days)
    companies = model.params.host_company_plan.size
    _poisson_within(_total(rows, "company_events"), companies * per_year * days / 365)
    recorded = _rows(model, "company_record", "detected")
    _binomial_within(recorded["entity"].size, _total(rows, "company_events"), detection)
    assert (recorded["delta"] == -1).all() and recorded["truth"].all()
    assert recorded["entity"].min() >= 0 and recorded["entity"].max() < companies


@pytest.mark.parametrize(("inspected", "chance"), [("A", 0.9), ("D", 0.2)])
def test_a_grade_that_draws_more_inspections_has_more_of_its_events_recorded(
    inspected: str, chance: float
) -> None:
    """Every company stays in A (points 0): detection is A's own where A is named, else the
    event's; the same true events are drawn either way (common random numbers)."""
    events = {
        "arrears": {
            "per_year": 20.0,
            "points": 0,
            "detection": 0.2,
            "detection_by_grade": {inspected: 0.9},
        }
    }
    model = _model({"events": events})
    rows = run_days(model, 30)
    recorded = _rows(model, "company_record", "detected")["entity"].size
    _binomial_within(recorded, _total(rows, "company_events"), chance)


def test_daily_grades_follow_the_score_and_stocks_add_up() -> None:
    events = {"tax_arrears": {"per_year": 60.0, "points": -7}}
    model = _model({"events": events})
    rows = run_days(model, 40)
    state, plan = model.state.companies, model.params.host_company_plan
    assert (state.grade == plan.grade_of(state.score)).all()
    assert (state.score >= 0).all() and (state.score <= 100).all()  # clipped to the scale
    for row in rows:
        assert sum(row[f"company_grade_{g}"] for g in GRADES) == plan.size
    assert rows[-1]["company_grade_D"] > 0
    moves = _rows(model, "company_grade")
    assert moves["entity"].size == _total(rows, "company_graded") > 0


@pytest.mark.parametrize("reset", [False, True])
def test_assessed_grades_move_only_on_assessment_days_and_the_score_starts_again(
    reset: bool,
) -> None:
    events = {"tax_arrears": {"per_year": 10.0, "points": -7}}
    model = _model({"events": events, "assess_every_days": 10, "reset_on_assessment": reset})
    rows = run_days(model, 30)
    moved_on = {int(d) for d in _rows(model, "company_grade")["day"]}
    assert moved_on == {9, 19, 29}
    assert all(row["company_grade_A"] == model.params.host_company_plan.size for row in rows[:9])
    resets = _rows(model, "company_record", "expiry")
    if reset:
        assert set(resets["day"].tolist()) == {9, 19, 29}
        assert (model.state.companies.score == 100).all()  # day 29 ended a period
    else:
        assert resets["entity"].size == 0
        assert (
            model.state.companies.score < 100
        ).mean() > 0.3  # a month's arrears, all still there


def test_between_assessments_a_direct_grade_moves_a_company_and_its_score_does_not() -> None:
    events = {
        "tax_arrears": {"per_year": 200.0, "points": -7},
        "dishonesty": {"per_year": 3.0, "points": 0, "set_grade": "C", "lock_days": 5},
    }
    model = _model({"events": events, "assess_every_days": 365})
    run_days(model, 20)
    assert (model.state.companies.score < 40).mean() > 0.5  # most scores say D by now
    moves = _rows(model, "company_grade")
    assert moves["entity"].size > 50
    assert (moves["rule"] == model.params.codes.vocabulary.code("C")).all()


def test_a_direct_grade_applies_at_once_is_locked_and_then_released() -> None:
    events = {"dishonesty": {"per_year": 3.0, "points": 0, "set_grade": "D", "lock_days": 5}}
    model = _model({"events": events, "assess_every_days": 365})
    run_days(model, 20)
    direct = _rows(model, "company_grade", "direct_grade")
    released = _rows(model, "company_grade", "lock_ended")
    assert direct["entity"].size > 50
    assert (direct["rule"] == model.params.codes.vocabulary.code("D")).all()
    # between assessments a released grade waits for the score; daily, it follows at once
    assert released["entity"].size == 0
    daily = _model({"events": events})
    run_days(daily, 20)
    first = _rows(daily, "company_grade", "direct_grade")
    back = _rows(daily, "company_grade", "lock_ended")
    assert back["entity"].size > 20
    for company, day in zip(back["entity"][:20], back["day"][:20], strict=True):
        entered = first["day"][first["entity"] == company]
        assert (day - entered[entered < day].max()) >= 5


# ---------------------------------------------------------------- employees


@pytest.mark.parametrize("fraction", [0.0, 0.5])
def test_an_employers_share_of_each_employees_deduction(fraction: float) -> None:
    model = _model({}, rule={"spillover": {"employer": fraction}})
    rows = run_days(model, 10)
    shares = _rows(model, "company_record", "employee")
    records = _rows(model, "record", "detected")
    assert _total(rows, "company_events") == 0  # no company event type: none happen
    if fraction == 0:
        assert shares["entity"].size == 0 and _total(rows, "company_records_employee") == 0
        return
    employer = model.params.pop.employer(records["entity"])
    assert shares["entity"].size == int((employer >= 0).sum())
    assert np.array_equal(np.sort(shares["entity"]), np.sort(employer[employer >= 0]))
    assert (shares["delta"] == -5).all() and not shares["truth"].any()
    _binomial_within(shares["entity"].size, records["entity"].size, 0.55)  # employment rate


def test_employee_points_charge_the_employer_where_people_have_no_points() -> None:
    model = _model({"employee_points": {"post": -3}}, rule={"points": 0})
    run_days(model, 10)
    shares = _rows(model, "company_record", "employee")
    assert shares["entity"].size > 100 and (shares["delta"] == -3).all()


# ---------------------------------------------------------------- partners


def test_partners_carry_points_for_a_company_in_a_bad_grade_and_get_them_back() -> None:
    events = {"dishonesty": {"per_year": 2.0, "points": 0, "set_grade": "D", "lock_days": 3}}
    on = _model({"events": events, "partners": 4, "partner_points": {"D": -6}})
    run_days(on, 15)
    moves = _rows(on, "company_grade")
    shares = _rows(on, "company_record", "partner")
    entered = moves["rule"] == on.params.codes.vocabulary.code("D")
    plan = on.params.host_company_plan
    assert shares["entity"].size == 4 * moves["entity"].size  # one row per partner and move
    assert (shares["delta"][shares["rule"] == on.params.codes.vocabulary.code("D")] == -6).all()
    assert (shares["delta"][shares["rule"] != on.params.codes.vocabulary.code("D")] == 6).all()
    company = int(moves["entity"][entered][0])
    partners, _ = plan.partners(np.array([company]))
    assert set(partners.tolist()) <= set(shares["entity"].tolist())
    off = _model({"events": events})
    rows = run_days(off, 15)
    assert _total(rows, "company_records_partner") == 0


# ---------------------------------------------------------------- joint punishment


def test_measures_act_at_their_rate_and_only_on_the_grades_they_name() -> None:
    events = {"dishonesty": {"per_year": 4.0, "points": 0, "set_grade": "D", "lock_days": 999}}
    measures = {"procurement": {"per_year": 30.0, "sanctioned_grades": ["D"]}}
    model = _model({"events": events, "measures": measures})
    days = 30
    rows = run_days(model, days)
    plan = model.params.host_company_plan
    occasions = _total(rows, "company_procurement_occasions")
    _poisson_within(occasions, plan.size * 30.0 * days / 365)
    sanctioned = _rows(model, "company_sanction")
    assert sanctioned["entity"].size == _total(rows, "company_procurement_sanctions") > 100
    graded_d = _rows(model, "company_grade", "direct_grade")
    for company, day in zip(sanctioned["entity"], sanctioned["day"], strict=True):
        assert (graded_d["day"][graded_d["entity"] == company] <= day).any()
    # each occasion finds a company in D with the share of D companies that day
    share_d = [row["company_grade_D"] / plan.size for row in rows]
    expected = sum(s * plan.size * 30.0 / 365 for s in share_d)
    _poisson_within(sanctioned["entity"].size, expected, sds=5.0)


def test_a_measure_that_names_no_grade_sanctions_nobody() -> None:
    events = {"dishonesty": {"per_year": 4.0, "points": 0, "set_grade": "D", "lock_days": 999}}
    measures = {"procurement": {"per_year": 30.0, "reward_grades": ["A"]}}
    model = _model({"events": events, "measures": measures})
    rows = run_days(model, 10)
    assert _total(rows, "company_procurement_sanctions") == 0
    assert _total(rows, "company_procurement_rewards") > 0
    assert _rows(model, "company_sanction")["entity"].size == 0


def test_a_company_sanctioned_for_its_employees_records_alone_is_sanctioned_wrongfully() -> None:
    measures = {"inspection": {"per_year": 50.0, "sanctioned_grades": ["C", "D"]}}
    model = _model(
        {"measures": measures, "employee_points": {"post": -20}},
        rule={"points": 0},
    )
    rows = run_days(model, 20)
    assert _total(rows, "company_inspection_sanctions") > 0
    assert _total(rows, "company_inspection_sanctions_wrongful") == _total(
        rows, "company_inspection_sanctions"
    )
    assert not _rows(model, "company_sanction")["truth"].any()


def test_the_score_a_companys_own_records_give_it_is_kept_and_judges_its_sanctions() -> None:
    events = {"tax_arrears": {"per_year": 20.0, "points": -50}}
    measures = {"inspection": {"per_year": 50.0, "sanctioned_grades": ["C", "D"]}}
    model = _model(
        {"events": events, "measures": measures, "employee_points": {"post": -100}},
        rule={"points": 0},
    )
    run_days(model, 20)
    own = _rows(model, "company_record", "detected")
    state, plan = model.state.companies, model.params.host_company_plan
    replayed = np.full(plan.size, 100)
    for day in range(20):  # a day's deltas together, clipped to the scale, as the engine does
        today = own["day"] == day
        total = np.bincount(own["entity"][today], weights=own["delta"][today], minlength=plan.size)
        replayed = np.clip(replayed + total.astype(np.int64), 0, 100)
    assert np.array_equal(state.own_score, replayed)
    assert (state.score == 0).mean() > 0.5  # an employee's post costs the firm everything
    assert np.array_equal(state.fair_grade, plan.grade_of(state.own_score))
    sanctioned = _rows(model, "company_sanction")
    unearned = ~sanctioned["truth"]
    assert unearned.any() and (~unearned).any()


# ---------------------------------------------------------------- legal representatives

REPRESENTED = {
    "events": {"dishonesty": {"per_year": 2.0, "points": 0, "set_grade": "D", "lock_days": 6}},
    "representative_grades": ["D"],
    "representative_list": "court",
}
COURT = {"lists": {"court": {"term_days": 1000}}, "services": {"flight": {"per_year": 365.0}}}


def test_the_representative_of_a_d_company_is_listed_refused_and_let_go_with_it() -> None:
    court = {**COURT, "services": {"flight": {"per_year": 365.0, "blocked_lists": ["court"]}}}
    model = _model(REPRESENTED, rulebook=court)
    rows = run_days(model, 20)
    entries = _rows(model, "list_entry", "representative")
    exits = _rows(model, "list_exit", "representative")
    into_d = _rows(model, "company_grade", "direct_grade")
    assert entries["entity"].size > 30 and exits["entity"].size > 20
    representatives = model.params.pop.representatives(into_d["entity"])
    assert set(entries["entity"].tolist()) <= set(representatives.tolist())
    company = int(into_d["entity"][0])
    assert (
        model.params.host_pop.employees_of(company)[0]
        == model.params.pop.representatives(np.array([company]))[0]
    )
    assert _total(rows, "representatives_listed") == entries["entity"].size
    assert rows[-1]["representatives_restricted"] == rows[-1]["court_size"]
    blocked = _rows(model, "blocked")
    assert set(blocked["entity"].tolist()) <= set(entries["entity"].tolist())
    assert blocked["entity"].size > 0


def test_responsible_persons_are_the_first_employees_and_are_listed_together() -> None:
    model = _model({**REPRESENTED, "responsible_persons": 3}, rulebook=COURT)
    run_days(model, 10)
    entries = _rows(model, "list_entry", "representative")
    into_d = _rows(model, "company_grade", "direct_grade")["entity"]
    expected = {
        int(p) for c in set(into_d.tolist()) for p in model.params.host_pop.employees_of(c)[:3]
    }
    assert set(entries["entity"].tolist()) == expected
    assert len(expected) > 2 * len(set(into_d.tolist()))  # most companies have three or more


def test_without_a_representative_list_no_representative_is_listed() -> None:
    plain = {k: v for k, v in REPRESENTED.items() if not k.startswith("representative")}
    model = _model(plain, rulebook=COURT)
    rows = run_days(model, 20)
    assert _rows(model, "list_entry")["entity"].size == 0
    assert _total(rows, "representatives_listed") == 0


# ---------------------------------------------------------------- association beyond one step


def test_depth_two_charges_friends_of_friends_the_square_once_and_never_the_recorded() -> None:
    def association(depth: int) -> tuple[Model, dict[str, np.ndarray]]:
        model = _model(rule={"points": -100, "spillover": {"friends": 0.5, "depth": depth}})
        run_days(model, 2)
        return model, _rows(model, "record", "association")

    _, one = association(1)
    model, two = association(2)
    assert set(one["delta"].tolist()) == {-50}
    near, far = two["delta"] == -50, two["delta"] == -25
    assert np.array_equal(two["entity"][near], one["entity"])  # the first step is unchanged
    assert (near | far).all()
    # the second step, person by person: friends of friends who are neither the recorded
    # person nor one of their friends, each once per record
    expected = []
    for day in (0, 1):
        recorded = _rows(model, "record", "detected")
        for person in recorded["entity"][recorded["day"] == day].tolist():
            friends = set(model.params.pop.friends(np.array([person]))[0].tolist())
            further = set(model.params.pop.friends(np.array(sorted(friends))).ravel().tolist())
            expected += sorted(further - friends - {person})
    assert len(expected) > 100
    assert np.array_equal(np.sort(two["entity"][far]), np.sort(np.array(expected)))


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (
            {"companies.measures": {"m": {"per_year": 1.0, "sanctioned_grades": ["E"]}}},
            ["companies.measures.m.sanctioned_grades", "unknown grade 'E'"],
        ),
        ({"companies.partners": 3}, ["companies.partners", "even"]),
        ({"companies.base": 200}, ["companies.base", "outside the scale"]),
        (
            {"companies.representative_list": "no_such_list"},
            ["companies.representative_list", "unknown list 'no_such_list'"],
        ),
        (
            {"companies.grades.A.min": 95},
            ["companies.grades", "leave a gap"],
        ),
        (
            {"companies.employee_points": {"no_such_event": -1}},
            ["companies.employee_points", "unknown event type"],
        ),
    ],
)
def test_a_bad_companies_section_is_refused_naming_the_field(
    overrides: dict, fragments: list[str]
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario("corporate", overrides=overrides)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_an_employer_share_without_companies_is_refused() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(
            "rongcheng",
            overrides={"rulebook.rules.traffic_violation.spillover.employer": 0.5},
        )
    assert "spillover.employer" in str(caught.value)
    assert "[companies]" in str(caught.value)


# ---------------------------------------------------------------- the built-in, end to end


def test_corporate_rates_punishes_and_restricts_representatives(tmp_path: Path) -> None:
    result = scsim.run("corporate", tmp_path / "c", population=40_000, days=400)
    m = result.metrics
    s = load_scenario("corporate")
    grades = m[[f"company_grade_{g}" for g in s.companies.grades]].sum(axis=1)
    assert (grades == grades.iloc[0]).all() and grades.iloc[0] > 1000
    # before the first yearly assessment only a direct grade moves a company out of A
    assert (m.company_grade_B.iloc[:364] == 0).all() and (m.company_grade_C.iloc[:364] == 0).all()
    assert m.company_graded.iloc[364] > 100  # the first yearly assessment
    sanctions = [f"company_{name}_sanctions" for name in s.companies.measures]
    assert m[sanctions].to_numpy().sum() > 0
    assert m.representatives_restricted.iloc[-1] > 0
    summary = result.summary
    assert sum(summary["company_grades_now"].values()) == grades.iloc[0]
    assert sum(summary["company_sanctions"].values()) == m[sanctions].to_numpy().sum()
    assert summary["representatives_restricted"] == m.representatives_restricted.iloc[-1]
    ledger = result.ledger
    assert set(COMPANY_KINDS) <= set(ledger["kind"].astype(str))
    blocked = ledger[ledger["kind"] == "company_sanction"]
    assert set(blocked["origin"].astype(str)) == {"tier"}
    report = (result.path / "report.html").read_text()
    assert "Companies per grade" in report and "public_procurement" in report


def test_the_no_system_counterfactual_rates_no_company_and_punishes_none() -> None:
    s = load_scenario("corporate", overrides={"population.size": 20_000, "run.days": 30})
    boosted = load_scenario(s, overrides={"companies.events.listed_tax_dishonesty.per_year": 5.0})
    real, none = Model.build(boosted), Model.build(no_system(boosted))
    real_rows, none_rows = run_days(real, 30), run_days(none, 30)
    sanctions = [f"company_{name}_sanctions" for name in s.companies.measures]
    assert sum(_total(real_rows, column) for column in sanctions) > 0
    assert sum(_total(none_rows, column) for column in sanctions) == 0
    assert _total(none_rows, "representatives_listed") == 0
    assert _total(none_rows, "company_events") == _total(real_rows, "company_events")


def test_dossiers_keep_a_person_and_the_company_with_the_same_id_apart(tmp_path: Path) -> None:
    overrides = {"companies.events.listed_tax_dishonesty.per_year": 2.0}
    result = scsim.run("corporate", tmp_path / "c", population=20_000, days=60, overrides=overrides)
    ledger = result.ledger
    sanctioned = ledger[ledger["kind"] == "company_sanction"]
    company = int(sanctioned["entity"].iloc[0])
    person_rows = scsim.audit.dossier(result, company)
    assert not person_rows["kind"].astype(str).str.startswith("company").any()
    rows = scsim.audit.company_dossier(result, company)
    assert rows["kind"].astype(str).str.startswith("company").all()
    assert (rows["day"].diff().dropna() >= 0).all()
    graded = rows[rows["kind"] == "company_grade"]
    assert "set directly" in graded["what"].iloc[0]
    assert graded["day"].iloc[0] <= rows[rows["kind"] == "company_sanction"]["day"].min()
    per_day = scsim.audit.company_sanctions(result)
    assert per_day["sanctions"].sum() == len(sanctioned)
    assert per_day["wrongful"].sum() == int((~sanctioned["truth"]).sum())
    with pytest.raises(scsim.audit.CompanyError, match="ids run from 0"):
        scsim.audit.company_dossier(result, 10**9)
    shown = cli("dossier", str(result.path), "--company", str(company))
    assert shown.exit_code == 0, shown.text
    assert f"company {company}: ledger" in shown.stdout and "sanctioned" in shown.stdout
    assert_one_line_refusal(cli("dossier", str(result.path), "--company", "1000000000"), "ids")
    assert_one_line_refusal(cli("dossier", str(result.path), "3", "--company", "4"), "one of")


def test_a_run_without_companies_has_no_company_dossier(tiny_run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(scsim.audit.CompanyError, match="rates no company"):
        scsim.audit.company_dossier(tiny_run.path, 0)
    assert "Companies per grade" not in (tiny_run.path / "report.html").read_text()


def test_a_run_with_companies_resumes_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_scenario(
        "corporate",
        overrides={
            "population.size": 20_000,
            "run.days": 40,
            "companies.assess_every_days": 10,
            "companies.partner_points": {"B": -3, "D": -5},
            "companies.events.listed_tax_dishonesty.per_year": 2.0,  # locks in the calendar
        },
    )
    assert_resumes_to_the_same_bytes(s, tmp_path, monkeypatch, killed_on=23, every=7)


@pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU with CuPy here")
def test_gpu_and_numpy_rate_companies_alike(tmp_path: Path) -> None:
    overrides = {
        "companies.events.listed_tax_dishonesty.per_year": 1.0,
        "companies.assess_every_days": 30,
    }
    runs = [
        scsim.run(
            "corporate",
            tmp_path / backend,
            population=60_000,
            days=90,
            overrides=overrides,
            backend=backend,
        )
        for backend in ("numpy", "gpu")
    ]
    for name in ("ledger.parquet", "metrics.parquet", "people.parquet"):
        assert (runs[0].path / name).read_bytes() == (runs[1].path / name).read_bytes(), name


def test_the_memory_estimate_counts_the_companies_state() -> None:
    from scsim.engine.companies import COMPANY_STATE_BYTES, CompanyPlan, CompanyState
    from scsim.engine.plan import compile_plan
    from scsim.engine.population import Population
    from scsim.simulation.resources import estimate

    s = load_scenario("corporate", overrides={"population.size": 20_000})
    pop = Population.generate(s.population, seed=s.run.seed)
    plan = CompanyPlan.of(s, pop)
    assert plan is not None and plan.size == pop.n_companies > 100
    state = CompanyState.fresh(plan)
    held = sum(v.nbytes for k, v in vars(state).items() if k not in ("grade_counts", "pending"))
    assert held == plan.size * COMPANY_STATE_BYTES
    people_plan = compile_plan(s, pop)
    rated = estimate(people_plan, pop, companies=plan.size)
    assert rated.memory - estimate(people_plan, pop).memory == plan.size * COMPANY_STATE_BYTES
