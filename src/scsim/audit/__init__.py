"""The audit: what a finished run did to its people, read from its run directory.

Every function takes a run directory (a path) or an `scsim.Result` and returns a pandas
DataFrame; the queries run in DuckDB over the parquet files, so a national ledger is never
loaded whole. Groups (`by=`) are the scenario's strata: "region", "area" (urban or rural) and
"class" (behaviour class), "income" (income band, where the scenario has bands) and "ethnicity"
(majority or minority, where a region has a minority share); None is everyone.

    >>> import scsim
    >>> result = scsim.run("rongcheng", population=100_000, days=90)
    >>> scsim.audit.fairness(result)                   # the fairness table
    >>> scsim.audit.wrongful_by_mechanism(result, by="class")
    >>> scsim.audit.dossier(result, scsim.audit.worst_person(result))
    >>> scsim.audit.company_dossier(result, 17)        # a company's ratings, grades, sanctions
    >>> scsim.audit.balance(result, by="income")       # rewards beside punishments, per group
    >>> scsim.audit.places(result)                     # per place and 1,000 people (pilots)
"""

from scsim.audit.balance import balance, balance_by_cause
from scsim.audit.company_dossier import CompanyError, company_dossier, company_sanctions
from scsim.audit.comparison import chilling_effect, headline
from scsim.audit.daily import (
    daily_by_group,
    list_sizes,
    refusals_by_cause,
    rewards,
    sanctions,
    tier_flows,
    tier_shares,
)
from scsim.audit.dossier import dossier, person_record, worst_person
from scsim.audit.fairness import disparate_impact, fairness
from scsim.audit.inequality import gini, refusal_gini
from scsim.audit.places import places, places_over_seeds
from scsim.audit.run import AuditRun, NotARunError, PersonError, open_run
from scsim.audit.wrongful import (
    wrongful_by_mechanism,
    wrongful_counts,
    wrongful_sanctions,
    wrongly_listed,
    wrongly_listed_counts,
)

__all__ = [
    "AuditRun",
    "CompanyError",
    "NotARunError",
    "PersonError",
    "balance",
    "balance_by_cause",
    "chilling_effect",
    "company_dossier",
    "company_sanctions",
    "daily_by_group",
    "disparate_impact",
    "dossier",
    "fairness",
    "gini",
    "headline",
    "list_sizes",
    "open_run",
    "person_record",
    "places",
    "places_over_seeds",
    "refusal_gini",
    "refusals_by_cause",
    "rewards",
    "sanctions",
    "tier_flows",
    "tier_shares",
    "worst_person",
    "wrongful_by_mechanism",
    "wrongful_counts",
    "wrongful_sanctions",
    "wrongly_listed",
    "wrongly_listed_counts",
]
