"""Diagnose many county-level units in one batch (here 安徽省's 六安市 and the Hefei sample), then resume."""
from pathlib import Path

from netopt.batch import BatchOptions, national_table, read_batch, run_batch
from netopt.datasets import sample_dir

ROOT = Path(__file__).resolve().parents[1]
units = ROOT / "data" / "units"

# every unit of 六安市 (adcodes 3415xx) from the national table: no branches there, so indicators + models
tasks = read_batch(units / "units.csv", units, only=["3415"])
summary = run_batch(tasks, "out/batch_luan", BatchOptions(optimize=True), scheduler="serial")
print(f"{len(summary.computed)} computed, {len(summary.skipped)} skipped, failed: {summary.failed}")
table = national_table("out/batch_luan")
print(table[["adcode", "name", "population_wan", "towns", "branches_at_benchmark", "lscp_branches",
             "mclp_covered_pct"]].to_string(index=False))

# the Hefei sample has branches: coverage, county reports and type plans, serially (drop scheduler= for a LocalCluster)
hefei = read_batch(sample_dir() / "counties.geojson", sample_dir())
result = run_batch(hefei, "out/batch_hefei", BatchOptions(plan_types=True), scheduler="serial",
                   title="合肥市各区县网点覆盖")  # the title of its summary's slides and Word report
print(national_table("out/batch_hefei")[["name", "branches", "coverage_rate_pct", "residents_per_branch_wan"]])
print("for the meeting:", ", ".join(p.name for p in result.outputs if p.suffix in (".pptx", ".docx")))
again = run_batch(hefei, "out/batch_hefei", BatchOptions(plan_types=True), scheduler="serial")
print(f"second run: {len(again.skipped)} units already finished, {len(again.computed)} recomputed")
