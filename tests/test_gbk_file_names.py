"""File and folder names in GBK bytes, as a Chinese Windows archive unzipped on Linux leaves them: read and written
(GDAL and SQLite take only UTF-8 names), and shown in Chinese in messages, records and the console."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import netopt as no
from netopt._paths import readable
from netopt.cli import app
from netopt.datasets import sample_dir

runner = CliRunner()
SAMPLE = sample_dir()


def gbk(folder: Path, name: str) -> Path:
    """`folder` / `name` with the name in GBK bytes (skipped where the file system takes only UTF-8 names)."""
    path = Path(os.fsdecode(bytes(folder) + b"/" + name.encode("gbk")))
    try:
        path.touch()
        path.unlink()
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    return path


def test_a_name_in_gbk_bytes_reads_in_chinese():
    name = os.fsdecode("/srv/合肥结果/x 合肥数据.csv".encode("gbk"))
    assert name != "/srv/合肥结果/x 合肥数据.csv" and readable(name) == "/srv/合肥结果/x 合肥数据.csv"
    assert readable("/srv/文件.csv") == "/srv/文件.csv" and readable(os.fsdecode(b"/srv/\xff\xfe")) == "/srv/??"


def test_a_city_in_a_gbk_folder_is_read_and_its_errors_named_in_chinese(tmp_path: Path):
    data = gbk(tmp_path, "合肥数据")
    shutil.copytree(SAMPLE, data)
    ds = no.read_folder(data)  # counties.geojson: GDAL reads it through a link
    assert len(ds.counties) == 9 and len(ds.towns) == 125
    towns = pd.read_csv(data / "towns.csv", dtype=str)
    towns.loc[3, "population"] = "abc"
    towns.to_csv(data / "towns.csv", index=False)
    with pytest.raises(no.InputError, match="合肥数据/towns.csv, row 5"):
        no.read_folder(data)


def test_a_shapefile_named_in_gbk_is_read_with_its_side_files(tmp_path: Path, county_boxes):
    county_boxes.to_file(tmp_path / "counties.shp", encoding="utf-8")
    named = gbk(tmp_path, "区县边界")
    for part in tmp_path.glob("counties.*"):
        part.rename(Path(f"{named}{part.suffix}"))
    assert list(no.read_counties(Path(f"{named}.shp"))["name"]) == ["瑶海区", "长丰县"]


def test_the_cli_reads_and_writes_in_gbk_folders_and_says_them_in_chinese(tmp_path: Path, monkeypatch):
    data, out = gbk(tmp_path, "合肥数据"), gbk(tmp_path, "合肥结果")
    shutil.copytree(SAMPLE, data)
    monkeypatch.setenv("PYTHONIOENCODING", "utf-8")
    result = runner.invoke(app, ["optimize", "--max-new", "1", "--bank", "农业", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote{tmp_path}/合肥结果/mclp_sites.csv" in "".join(result.output.split())  # folded where long
    assert no.io.read_gis_file(out / "mclp_plan.gpkg", "sites")["site_id"].notna().all()  # a whole GeoPackage
    record = pd.read_excel(out / "mclp_plan.xlsx", sheet_name=0, engine="openpyxl").set_index("item 项目")
    assert record.loc["command 命令", "value 数值"].endswith(f"--data {tmp_path}/合肥数据 --out {tmp_path}/合肥结果 "
                                                           "--bank 农业 --max-new 1")
    assert not [name for name in os.listdir(out) if name.startswith(".")]  # no temporary file left


def test_candidates_and_plans_named_in_gbk_are_read_and_named_in_chinese(tmp_path: Path):
    """A KMZ of sites (GDAL reads a copy), two candidate files whose ids repeat (each id prefixed by its file's
    name), a plan in a folder compare names it by (its name in the table and workbook)."""
    from netopt.kml import write_kml

    towns = no.load_sample().towns.head(3)[["name", "geometry"]]
    kmz = gbk(tmp_path, "候选.kmz")
    write_kml(kmz, {"候选点位": towns})
    with zipfile.ZipFile(kmz) as packed:  # the document named as the file, in Chinese (UTF-8)
        assert "<Document><name>候选</name>" in packed.read("doc.kml").decode("utf-8")
    assert no.read_candidates(kmz)["name"].tolist() == towns["name"].tolist()
    offers = gbk(tmp_path, "候选点位.csv")
    text = "名称,经度,纬度\n甲,117.28,31.74\n"
    offers.write_text(text, encoding="utf-8")
    (tmp_path / "other.csv").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["evaluate-sites", "--tables-only", str(offers), str(tmp_path / "other.csv"), "--out",
                                 str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    assert sorted(pd.read_csv(tmp_path / "e" / "site_evaluation.csv")["site_id 点位编号"]) == ["other:S0001",
                                                                                              "候选点位:S0001"]
    plan = gbk(tmp_path, "方案一")
    plan.mkdir()
    shutil.copy(SAMPLE / "branches.csv", plan / "mclp_branches.csv")
    compared = runner.invoke(app, ["compare", "--tables-only", str(plan), "--out", str(tmp_path / "c")])
    assert compared.exit_code == 0, compared.output
    assert pd.read_csv(tmp_path / "c" / "compare_scenarios.csv")["scenario 方案"].tolist() == ["today 现状",
                                                                                             "方案一/mclp"]


def test_a_gbk_file_name_says_its_kind():
    from netopt.io import guess_kind

    assert guess_kind(Path(os.fsdecode("乡镇人口.csv".encode("gbk")))) == "towns"
    assert guess_kind(Path(os.fsdecode("网点清单.xlsx".encode("gbk")))) == "branches"


def test_validate_names_a_broken_gbk_file_in_chinese(tmp_path: Path):
    broken = gbk(tmp_path, "不完整.csv")
    broken.write_text("名称,经度,纬度\n甲,abc,31.8\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(broken), "--kind", "branches"])
    assert result.exit_code == 1 and "│ 不完整.csv │ row 2 │ 经度" in result.output  # the table of problems
