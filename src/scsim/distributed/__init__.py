"""Beyond one machine, on Ray: sweeps of many runs, their sensitivity analysis, and one large
population run as shards (DESIGN.md, "Backends and scale").

    scsim sweep examples/sweep.toml                  # every combination, as Ray tasks
    scsim sensitivity examples/sensitivity.toml      # Sobol indices of the headline metrics
    scsim run national-score --shards 4              # one population, 4 Ray actors
"""
