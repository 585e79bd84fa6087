"""A bank's branch list of a city other than the sample's, and nothing else: read with that city's bundled counties
and towns (the towns' residents estimated from the 2020 census), its gaps measured, what was taken said."""
from pathlib import Path

import pandas as pd

import netopt as no

# a stand-in for a bank's own list of its outlets in 芜湖市: one beside each of twelve of the city's towns
towns = no.datasets.national_towns()
near = towns[towns["city"] == "芜湖市"].iloc[::6]
folder = Path("out") / "wuhu_bank"
folder.mkdir(parents=True, exist_ok=True)
pd.DataFrame({"网点名称": [f"某银行{name}支行" for name in near["name"]], "经度": near["lon"] + 0.003,
              "纬度": near["lat"] + 0.002}).to_csv(folder / "网点.csv", index=False)

ds = no.read_folder(folder)  # as `netopt analyze --data out/wuhu_bank` reads it
print(ds.counties.attrs["placed"])  # which city, and that its counties and towns are the bundled ones
print(ds.counties[["name", "population", "region_type"]])
cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
print(cov)
print(cov.notes)  # among them: the towns' residents are estimates, and the counties whose towns are not bundled
print(cov.underserved_towns[["name", "county", "population", "reason"]].head(10))

# the bundled counties come with their boundaries: the residents on a 1 km grid, and the counties on the map
from netopt.grid import population_grid  # noqa: E402

cells = population_grid(ds, cell_km=1.0)
on_grid = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5}, demand=cells)
print(on_grid)  # finer than the town points: a town's residents beyond reach counted where they live
no.maps.static_map(ds, folder / "芜湖_map.png", coverage=on_grid)
