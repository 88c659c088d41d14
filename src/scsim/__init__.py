"""scsim: simulate and audit social-credit systems on synthetic populations.

A simulator, never an operational system: it generates its people, imports no person-level
data, connects to no real data source and recognises no faces, voices or texts.

    >>> import scsim
    >>> result = scsim.run("rongcheng", population=10_000, days=30)
    >>> result.metrics.tail()          # pandas DataFrame, one row per day
    >>> scsim.plots.list_sizes(result)  # the report's plots, inline in a notebook
"""

from scsim import audit
from scsim.errors import ScenarioError, UserError
from scsim.experiments.compare import compare
from scsim.interfaces.api import Result, resume, run
from scsim.report import plots
from scsim.scenario import Scenario, load_scenario
from scsim.version import __version__

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "UserError",
    "__version__",
    "audit",
    "compare",
    "load_scenario",
    "plots",
    "resume",
    "run",
]
