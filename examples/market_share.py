"""How much of the market can one bank win from the others? Huff market shares on the Hefei sample: today's
share of 招商银行, the best 5 new outlets, what each extra outlet adds, and the fewest outlets for 5 %."""
from pathlib import Path

import netopt as no
from netopt.competition import bank_mask
from netopt.planning import candidate_sites, existing_positions

ds = no.load_sample()
sites = candidate_sites(ds, bank="招商银行")  # its 20 outlets + every town point as a candidate
rivals = ds.branches[~bank_mask(ds.branches, "招商银行")]  # every other bank's outlets, fixed
existing = existing_positions(sites)
model = no.MarketShare.from_geodataframes(ds.towns, sites, rivals, p=len(existing) + 5, existing=existing,
                                          beta=2.0, min_km=1.0)
today = model.evaluate(sites.loc[existing, "site_id"])
plan = model.solve()
print(f"market share 市场份额: today {today.details['share_pct']:.2f}% → with 5 new outlets "
      f"{plan.details['share_pct']:.2f}% ({plan.status})")
names = dict(zip(sites["site_id"], sites["name"]))
print("new outlets:", [names[s] for s in plan.selected if s.startswith("new:")])
curve = model.curve(range(len(existing), len(existing) + 6))
print(curve[["p", "captured", "share_pct", "gain"]].assign(captured=curve["captured"] / 1e4, gain=curve["gain"] / 1e4)
      .rename(columns={"captured": "won_wan", "gain": "gain_wan"}).round(2).to_string(index=False))
fewest = no.MarketShare.from_geodataframes(ds.towns, sites, rivals, target_share=0.05, existing=existing).solve()
print(f"fewest outlets for 5 %: {len(fewest.selected)} ({fewest.details['share_pct']:.2f}%)")
Path("out").mkdir(exist_ok=True)
plan.assignment.to_csv("out/example_market_share.csv", index=False, encoding="utf-8-sig")
