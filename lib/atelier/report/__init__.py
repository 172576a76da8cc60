"""Report toolkit: paper theme, figure and table export, claims, run directories.

Importing it enables the atelier altair theme. A notebook typically does::

    from atelier import report
    run = report.open_run("completep", run_dir)
    report.save_figure(chart, "coord_check")
    report.save_table(df, "optima")
    report.save_claims([report.Claim(...)])
"""

from atelier.report import theme as _theme
from atelier.report.claims import Claim, claims_table, load_claims, save_claims
from atelier.report.figures import save_figure
from atelier.report.run import Run, current_run, open_run
from atelier.report.scaling import LawFit, ScalingFit, fit_log_law, fit_scaling_law, relative_error
from atelier.report.tables import save_table, to_latex
from atelier.report.theme import tight_log_scale

_theme.enable()

__all__ = [
    "Claim", "Run", "claims_table", "current_run", "load_claims", "open_run", "save_claims",
    "save_figure", "save_table", "to_latex", "LawFit", "ScalingFit", "fit_log_law", "fit_scaling_law", "relative_error",
    "tight_log_scale",
]
