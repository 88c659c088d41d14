"""The engine: a population, its state, and the day's components that step it.

Nothing here opens a file, draws a plot or reads a run directory; the layers above
(`scsim.simulation`, `scsim.experiments`, `scsim.interfaces`) run it and save what it does.
"""
