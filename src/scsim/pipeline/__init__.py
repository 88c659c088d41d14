"""The daily pipeline, one module per stage: behave, observe, score, sanction, respond, collect.

The order is written once, in `scsim.model.Model.step`.
"""
