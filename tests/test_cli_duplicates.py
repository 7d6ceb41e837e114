"""``snapfind-cli duplicates``, end to end through real subprocesses."""

import json
from pathlib import Path

import pytest
from test_cli import cli
from test_duplicates import TINY_NEAR, digests, plant
from tiny_model import ARCH

pytestmark = pytest.mark.slow  # four CLI processes build the library: about 30 s


@pytest.fixture(scope="module")
def library(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_files: tuple[Path, Path]
) -> tuple[Path, Path, dict[str, set[str]]]:
    base = tmp_path_factory.mktemp("cli-dups")
    home, photos = base / "home", base / "photos"
    expected = plant(photos, originals=6, planted=2)
    config, weights = tiny_model_files
    cli(home, "models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    cli(home, "add", str(photos))
    cli(home, "index")
    return home, photos, expected


def test_json_lists_planted_groups_keeper_first(
    library: tuple[Path, Path, dict[str, set[str]]],
) -> None:
    home, photos, expected = library
    before = digests(photos)
    out = json.loads(cli(home, "duplicates", "--threshold", str(TINY_NEAR), "--json").stdout)
    assert out["threshold"] == TINY_NEAR and out["level"] is None and out["pictures"] == 13
    groups = out["groups"]
    assert [len(g["members"]) for g in groups] == [5, 4]
    assert [{Path(m["path"]).name for m in g["members"]} for g in groups] == list(expected.values())
    for group in groups:
        first = group["members"][0]
        assert first["keep"] and Path(first["path"]).name in expected
        assert set(first) >= {"path", "size", "width", "height", "taken_at", "similarity"}
        assert first["width"] == 400 and first["height"] == 300
    assert digests(photos) == before


def test_plain_text_and_named_levels(library: tuple[Path, Path, dict[str, set[str]]]) -> None:
    home, photos, _ = library
    lines = cli(home, "duplicates", "--threshold", "exact").stdout.splitlines()
    assert lines[0] == "Group 1: 2 pictures"
    assert lines[1].split()[0] == "keep" and lines[1].endswith("s00.jpg")
    assert "400×300" in lines[1]
    assert lines[2].split()[0] == "same" and lines[2].endswith("copy of s00.jpg")
    assert lines[-1].startswith("1 groups, 2 of 13 pictures (exact copies, same bytes).")
    limited = cli(home, "duplicates", "--in", str(photos.parent), "--threshold", "exact").stdout
    assert limited.startswith("No duplicates among 0 pictures")


def test_bad_threshold_is_a_usage_error(library: tuple[Path, Path, dict[str, set[str]]]) -> None:
    home, _, _ = library
    result = cli(home, "duplicates", "--threshold", "loose", check=False)
    assert result.returncode == 2 and "exact, near or similar" in result.stderr


def test_empty_library(tmp_path: Path) -> None:
    result = cli(tmp_path / "home", "duplicates", "--json")
    assert json.loads(result.stdout) == {
        "threshold": 0.97,
        "level": "near",
        "pictures": 0,
        "groups": [],
    }
