"""Planning inputs built from a dataset: candidate sites (today's branches plus town points) for the models."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from netopt._errors import InputError
from netopt.io import Dataset


def candidate_sites(ds: Dataset, bank: str | None = None) -> gpd.GeoDataFrame:
    """Today's branches (of one bank, or all) marked existing, plus every town point as a new candidate site.

    Columns: site_id, name, kind ("existing" | "new"), county, geometry (WGS84).
    """
    branches = ds.branches
    if bank is not None:
        branches = branches[branches["bank"].astype(str).str.contains(bank, regex=False, na=False)]
        if branches.empty:
            banks = ", ".join(sorted(ds.branches["bank"].dropna().astype(str).unique())[:10])
            raise InputError(f"no branch of bank '{bank}'; banks in the data: {banks}", file="branches")
    existing = gpd.GeoDataFrame({
        "site_id": branches["branch_id"].astype(str).values, "name": branches["name"].values,
        "kind": "existing", "county": branches["county"].values if "county" in branches else pd.NA,
    }, geometry=branches.geometry.values, crs=ds.branches.crs)
    towns = ds.towns
    new = gpd.GeoDataFrame({
        "site_id": ("new:" + towns["town_id"].astype(str)).values, "name": towns["name"].values, "kind": "new",
        "county": towns["county"].values,
    }, geometry=towns.geometry.representative_point().values, crs=ds.towns.crs)
    return gpd.GeoDataFrame(pd.concat([existing, new], ignore_index=True), crs=ds.branches.crs)


def existing_positions(candidates: gpd.GeoDataFrame) -> np.ndarray:
    """Row positions of the existing branches among the candidate sites."""
    return np.flatnonzero(candidates["kind"].to_numpy() == "existing")
