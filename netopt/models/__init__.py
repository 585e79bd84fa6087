"""Facility-location models as exact integer programs sharing one result type."""
from netopt.models._base import SiteRules
from netopt.models._milp import Result
from netopt.models.capacitated import CFLP, CapacitatedMCLP
from netopt.models.center import PCenter
from netopt.models.covering import LSCP, MCLP
from netopt.models.dispersion import PDispersion
from netopt.models.market import MarketShare
from netopt.models.median import PMedian

__all__ = ["CFLP", "CapacitatedMCLP", "LSCP", "MCLP", "MarketShare", "PCenter", "PDispersion", "PMedian", "Result",
           "SiteRules"]
