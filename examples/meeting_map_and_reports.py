"""The planning-meeting pack: the offline map (HTML, PNG, PDF), the county reports with recommended types, a
map of each county and its 3 best sites for new branches 建议新设网点, the slides 汇报材料 (city_summary.pptx) and the
analysis report 分析报告 to edit in Word (city_summary.docx)."""
from pathlib import Path

import netopt as no
from netopt.planning import suggest_new_sites
from netopt.report import batch_reports

ds = no.load_sample()
radius = {"core": 1.2, "county": 3.5}
cov = no.analyze_coverage(ds, radius_km=radius)
plan = no.assign_branch_types(ds, coverage=cov, mix={"community": (0.40, None)})
out = Path("out")
out.mkdir(exist_ok=True)
# the PNG/PDF write Chinese in an installed Chinese font; on a server without one, name a font file first, e.g.
# no.use_font("/srv/fonts/msyh.ttc") — else their labels are pinyin and English (a ChineseFontWarning says so)
no.maps.network_map(ds, coverage=cov, plan=plan).save(str(out / "meeting_map.html"))
no.maps.static_map(ds, out / "meeting_map.png", coverage=cov, plan=plan)
new_sites = suggest_new_sites(ds, radius, per_county=3)  # each county's town points bringing most residents in reach
print(new_sites[["county", "rank", "name", "adds_covered_wan"]].head(6))
# template="农行汇报模板.pptx" writes the slides in the bank's own PowerPoint template (its size, logo, layouts),
# word_template="农行报告模板.docx" the Word report in its Word template (its page, styles, header and footer)
written, failures = batch_reports(cov, out / "reports", plan=plan, new_sites=new_sites, city=ds)
print(f"{len(written)} report files; failed counties: {failures or 'none'}")
print(f"slides for the meeting 汇报材料: {out / 'reports' / 'city_summary.pptx'}")
print(f"the analysis report 分析报告: {out / 'reports' / 'city_summary.docx'}")
