"""Scenario files: schema, loading with `extends`, and the built-in library."""

from scsim.scenario.loader import builtin_names, load_scenario, to_toml
from scsim.scenario.schema import Scenario

__all__ = ["Scenario", "builtin_names", "load_scenario", "to_toml"]
