# %% [markdown]
# # A city pilot, audited: a walk through scsim in a notebook
#
# Open this file as a notebook (Jupyter with jupytext, or VS Code: each `# %%` is a cell), or
# run it as a script: `python examples/notebook.py`. It simulates Rongcheng's 1000-point pilot
# on a synthetic city, then asks what the audit asks: who was refused, how many wrongly, by
# which mechanism, and what the system changes compared with no system at all.
#
# Everything here is generated: scsim imports no person-level data.

# %%
import os

import scsim

PEOPLE = int(os.environ.get("SCSIM_EXAMPLE_PEOPLE", 100_000))  # a test sets it smaller
DAYS = int(os.environ.get("SCSIM_EXAMPLE_DAYS", 365))

# Rongcheng's courts misattribute 1 case in 1,000 [U]; at this size that lists nobody wrongly,
# and the audit below would have nothing to show. 20 in 100 [U] lists a few on others' cases,
# even in the test's small run (20,000 people, 120 days: about 10 cases in all).
WRONG_FACES = {"surveillance.sensors.courts.misattribution": 0.2}
result = scsim.run(
    "rongcheng", population=PEOPLE, days=DAYS, seed=1, overrides=WRONG_FACES, progress=True
)
result  # noqa: B018 (in a notebook: the summary table and a link to the report)

# %% [markdown]
# ## The daily metrics and the ledger
# One row per day; every recorded change in the ledger, with `truth` false where it rests on
# a record the person did not earn.

# %%
metrics = result.metrics
print(metrics[["day", "records", "records_false", "court_blacklist_size"]].tail())
ledger = result.ledger
print(ledger[(ledger.kind == "blocked") & ~ledger.truth].head())

# %% [markdown]
# ## Plots, inline
# The same figures as the run's report.html.

# %%
scsim.plots.grades(result)

# %%
scsim.plots.list_sizes(result)

# %%
for name in scsim.plots.every(result):
    print(name)

# %% [markdown]
# ## Who was refused, and how many wrongly
# Refusals by the list or grade that refused them; wrongful sanctions traced to the first false
# record behind them; fairness across the strata (region, urban or rural, behaviour class).

# %%
print(scsim.audit.refusals_by_cause(result).to_string())
wrongful = scsim.audit.wrongful_sanctions(result)
print(f"{len(wrongful):,} wrongful sanctions, by the mechanism of the first false record:")
print(wrongful.groupby("mechanism").size().to_string())
fairness = scsim.audit.fairness(result)
print(fairness[["dimension", "group", "sanction_rate", "impact_ratio", "four_fifths"]].to_string())

# %% [markdown]
# ## One person's file
# Everything recorded about the person with the most wrongful sanctions, and why.

# %%
person = scsim.audit.worst_person(result)
print(scsim.audit.dossier(result, person)[["day", "kind", "rule", "what"]].to_string())

# %% [markdown]
# ## Against no system
# The same population and seeds with a rulebook that does nothing: the paired differences are
# the system's effect, with 95% intervals over seeds (5 seeds: with 2, the t interval is
# 12.7 standard errors wide each side, too wide to say anything).

# %%
city = scsim.load_scenario("rongcheng", overrides=WRONG_FACES)
table = scsim.compare(city, against_none=True, seeds=5, population=PEOPLE, days=DAYS)
print(table.to_string())
