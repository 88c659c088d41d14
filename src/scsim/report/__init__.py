"""Reports: self-contained HTML pages with interactive plotly figures.

>>> from scsim.report import write_report
>>> write_report("runs/rongcheng")       # runs/rongcheng/report.html
"""

from scsim.report.compare import write_compare_report
from scsim.report.html import write_report, write_run_report
from scsim.report.kept import ReportIfPossible

__all__ = ["ReportIfPossible", "write_compare_report", "write_report", "write_run_report"]
