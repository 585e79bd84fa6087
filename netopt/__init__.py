"""netopt: plan a bank's branch network (网点布局) — data loading, coverage diagnosis, location models, branch types."""
from netopt import competition, maps, planning, report
from netopt.access import Accessibility, accessibility
from netopt._errors import InfeasibleError, InputError, NetoptError, Problem, SolverError
from netopt.coords import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from netopt.coverage import Coverage, analyze_coverage
from netopt.datasets import load_sample
from netopt.fonts import use_font
from netopt.io import (Dataset, read_branches, read_candidates, read_counties, read_dataset, read_folder,
                       read_towns, write_geopackage)
from netopt.kml import write_kml
from netopt.models import (CFLP, LSCP, MCLP, CapacitatedMCLP, MarketShare, PCenter, PDispersion, PMedian, Result,
                           SiteRules)
from netopt.models.types import assign_branch_types

__version__ = "0.1.0"
__all__ = [
    "CFLP", "CapacitatedMCLP", "LSCP", "MCLP", "MarketShare", "PCenter", "PDispersion", "PMedian", "Result",
    "SiteRules",
    "Accessibility", "Coverage", "Dataset", "InfeasibleError", "InputError", "NetoptError", "Problem", "SolverError",
    "accessibility", "analyze_coverage", "assign_branch_types", "competition", "gcj02_to_wgs84", "load_sample", "maps",
    "planning", "read_branches", "read_candidates", "read_counties", "read_dataset", "read_folder", "read_towns",
    "report",
    "to_wgs84", "use_font", "wgs84_to_gcj02", "write_geopackage", "write_kml",
]
