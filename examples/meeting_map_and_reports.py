"""The planning-meeting pack: the offline map (HTML, PNG, PDF) and the county reports with recommended types."""
from pathlib import Path

import netopt as no
from netopt.report import batch_reports

ds = no.load_sample()
cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
plan = no.assign_branch_types(ds, coverage=cov, mix={"community": (0.40, None)})
out = Path("out")
out.mkdir(exist_ok=True)
no.maps.network_map(ds, coverage=cov, plan=plan).save(str(out / "meeting_map.html"))
no.maps.static_map(ds, out / "meeting_map.png", coverage=cov, plan=plan)
written, failures = batch_reports(cov, out / "reports", plan=plan)
print(f"{len(written)} report files; failed counties: {failures or 'none'}")
