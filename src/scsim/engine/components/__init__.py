"""The day's components, one module each: the six stages of a day (behave, observe, score,
sanction, respond, collect) and the mechanisms that run between them.

The order of a day is written once, in `scsim.engine.day`.
"""
