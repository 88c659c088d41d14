"""Calibration: a run set beside the published figures, fitted to them, and run forward.

- `series`: a figure counted as its source counts it (cumulative, stock, a year's flow, a share),
  from the daily metrics, scaled from the run's population to the nation's.
- `runs`: the scenario run in memory over seeds (no files), its daily metrics as DataFrames.
- `table`: target, model (mean and 95% interval over seeds), ratio, within tolerance; the loss.
- `fit`: the free rates fitted to the targets with Optuna; the fitted scenario file.
- `predict`: the series at chosen dates beyond the record.
"""

from scsim.audit.published import calibration_table, loss
from scsim.audit.series import series_at
from scsim.experiments.calibration.fit import Fit, fit, write_fitted
from scsim.experiments.calibration.predict import predict
from scsim.experiments.calibration.runs import run_metrics

__all__ = [
    "Fit",
    "calibration_table",
    "fit",
    "loss",
    "predict",
    "run_metrics",
    "series_at",
    "write_fitted",
]
