"""Plan on projected residents 规划人口: a branch opened now stands for ten years, so weigh it on where people will
live. The sample has no projection, so this example writes a what-if one (包河区 and 蜀山区, where the city grows
south and west, +40 %; an assumption, not data) as a towns column, reads the city counting residents by it, and
compares today's network and the best 3 new branches under the census and under the projection."""
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import netopt as no
from netopt.coverage import demand_radius_km
from netopt.datasets import sample_dir
from netopt.planning import candidate_sites, existing_positions

COLUMN = "2035年规划人口（万人）"
RADIUS = {"core": 1.2, "county": 3.5}

folder = Path(tempfile.mkdtemp()) / "hefei"
shutil.copytree(sample_dir(), folder)
towns = pd.read_csv(folder / "towns.csv", dtype=str)
growth = np.where(towns["county"].isin(["包河区", "蜀山区"]), 1.4, 1.0)  # the what-if
towns[COLUMN] = (towns["population"].astype(float) * growth / 1e4).round(4)
towns.to_csv(folder / "towns.csv", index=False)  # the analyst's towns table with the column added

rows = []
for label, population in (("census 2020", None), ("projection 2035", "2035年规划人口")):
    ds = no.read_dataset(folder / "counties.geojson", folder / "towns.csv", folder / "branches.csv",
                         population=population).of_bank("农业")
    cov = no.analyze_coverage(ds, radius_km=RADIUS)
    said = [note for note in cov.notes if note.startswith("Residents")]  # which column counted them
    print(f"{label}: {ds.towns['population'].sum() / 1e4:,.1f}万 residents.", *said)
    print(cov.by_region[["region_type", "population_wan", "coverage_rate_pct", "residents_per_branch_wan"]].round(2))
    sites = candidate_sites(ds, "农业")
    existing = existing_positions(sites)
    plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=demand_radius_km(ds, RADIUS),
                                      p=len(existing) + 3, existing=existing).solve()
    new = sites[sites["site_id"].isin(plan.selected) & (sites["kind"] == "new")]
    print(f"  3 new branches: {', '.join(f'{n} ({c})' for n, c in zip(new['name'], new['county']))}; "
          f"{plan.objective / 1e4:,.1f}万 residents within reach\n")
    rows.append({"residents": label, "new_branches": "、".join(new["name"]), "covered_wan": plan.objective / 1e4})
shutil.rmtree(folder.parent)
Path("out").mkdir(exist_ok=True)
pd.DataFrame(rows).to_csv("out/example_projected_residents.csv", index=False, encoding="utf-8-sig")
