"""The brand file: what it accepts, and how it says what is wrong with it."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.brands import BrandConfigError, load_brands
from pipelines.cli import app

GOOD = '''
[[brand]]
name = "Northwind Air"
keywords = ["northwind", "#flynorthwind"]
[brand.accounts]
twitter = ["@NorthwindAir", "NorthwindHelp"]
[brand.staff]
twitter = "jane_at_northwind"
'''


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brands.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_documented_file_loads(tmp_path):
    (brand,) = load_brands(_write(tmp_path, GOOD))
    assert brand.name == "Northwind Air"
    assert brand.accounts == {"twitter": ("NorthwindAir", "NorthwindHelp")}
    assert brand.staff == {"twitter": ("jane_at_northwind",)}
    assert brand.terms() == ("Northwind Air", "northwind", "#flynorthwind", "@NorthwindAir",
                             "@NorthwindHelp")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("[brand.accounts]", "[brand.acounts]"),
         "brand #1 (Northwind Air): unknown key(s) acounts; expected name, keywords"),
        (GOOD.replace("keywords = [", "keyword = ["), "unknown key(s) keyword"),
        (GOOD + '\n[settings]\nx = 1\n', "unknown key(s) settings; expected brand"),
        ('brand = ["Northwind"]\n', "brand #1 must be a [[brand]] table"),
        (GOOD.replace('["northwind", "#flynorthwind"]', '"northwind"'),
         "keywords must be a list of strings"),
        (GOOD.replace('name = "Northwind Air"', ""), "brand #1 has no name"),
        (GOOD + GOOD, "brand names must be unique"),
        ("[[brand]\n", "not valid TOML"),
        ("", "expected at least one [[brand]] table"),
    ],
)
def test_mistakes_name_the_file_and_what_is_wrong(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(BrandConfigError) as caught:
        load_brands(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_the_cli_says_it_in_one_line_before_loading_anything(tmp_path):
    path = _write(tmp_path, GOOD.replace("[brand.accounts]", "[brand.acounts]"))
    db = tmp_path / "out" / "a.duckdb"
    result = CliRunner().invoke(app, ["run", "--input", str(tmp_path), "--brands", str(path),
                                      "--db", str(db)])
    assert result.exit_code == 2
    assert "unknown key(s) acounts" in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) <= 3
    assert not db.parent.exists()  # nothing ran
