"""Running and saving one simulation: resources checked, days stepped, the run directory
written whole or not at all, checkpoints to resume from, and one population run as shards.

    >>> summary = simulate(load_scenario("rongcheng"), Path("runs/rongcheng"))
"""
