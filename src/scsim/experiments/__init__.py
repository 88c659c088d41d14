"""Experiments that run many simulations: a paired comparison, a sweep and its sensitivity
analysis (on Ray, beyond one machine), a calibration against the published record and a
prediction beyond it. They run simulations through `scsim.simulation` and read what those
wrote through `scsim.audit`.

    scsim compare rongcheng --against-none          # the paired comparison with no system
    scsim sweep examples/sweep.toml                  # every combination, as Ray tasks
    scsim sensitivity examples/sensitivity.toml      # Sobol indices of the headline metrics
"""
