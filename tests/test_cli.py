"""The command line, end to end, through real subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from imagegen import save_scene
from tiny_model import ARCH


def cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}")
    return result


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_files: tuple[Path, Path]
) -> tuple[Path, Path]:
    """A library built through the CLI: import the tiny model, add a folder, index it."""
    base = tmp_path_factory.mktemp("cli")
    home, photos = base / "home", base / "photos"
    for i in range(8):
        save_scene(photos / f"img{i}.jpg", seed=i)
    (photos / "trip.md").write_text("Notes from our sailing trip along the coast.\n", "utf-8")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    config, weights = tiny_model_files
    cli(home, "models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    added = cli(home, "add", str(photos))
    assert "Added" in added.stdout
    run = cli(home, "index")
    assert "1 file(s) could not be indexed" in run.stderr
    return home, photos


def test_search_json_is_stable(indexed: tuple[Path, Path]) -> None:
    home, _photos = indexed
    out = json.loads(cli(home, "search", "boats on the sea", "-k", "3", "--json", "--all").stdout)
    assert len(out["results"]) == 3
    hit = out["results"][0]
    assert set(hit) >= {
        "file_id",
        "path",
        "kind",
        "score",
        "relevance",
        "rank",
        "width",
        "height",
        "taken_at",
        "camera",
        "line_start",
        "line_end",
        "snippet",
    }
    assert [h["rank"] for h in out["results"]] == [1, 2, 3]
    docs = json.loads(cli(home, "search", "sailing", "--type", "document", "--json").stdout)
    assert Path(docs["results"][0]["path"]).name == "trip.md"


def test_image_search_and_similar(indexed: tuple[Path, Path]) -> None:
    home, photos = indexed
    out = cli(home, "search", "--image", str(photos / "img2.jpg"), "-k", "2", "--all").stdout
    assert out.splitlines()[0].endswith("img2.jpg")
    similar = json.loads(cli(home, "similar", str(photos / "img2.jpg"), "--json", "--all").stdout)
    assert all(Path(h["path"]).name != "img2.jpg" for h in similar["results"])
    assert len(similar["results"]) == 7


def test_mixed_query_weights_and_negatives(indexed: tuple[Path, Path]) -> None:
    home, photos = indexed
    a, b = str(photos / "img3.jpg"), str(photos / "img5.jpg")

    def ranked(*args: str) -> list[str]:
        out = json.loads(cli(home, "search", *args, "-k", "8", "--all", "--json").stdout)
        return [Path(h["path"]).name for h in out["results"]]

    compact = ranked(f"{a} + {b}")
    halved = ranked("--image", a, "--image", b, "--weight", "image=0.5")
    assert compact == ranked("--image", a, "--image", b) == halved  # only ratios matter
    assert ranked(f"3:{a} + {b}")[0] == "img3.jpg"
    away = ranked(a, "--not-image", b)
    assert away[0] == "img3.jpg" and away.index("img5.jpg") > compact.index("img5.jpg")
    sea = ranked("sailing boats", "--not", "mountains", "--type", "document")
    assert sea == ["trip.md"]
    bad = cli(home, "search", "beach", "--weight", "colour=2", check=False)
    assert bad.returncode == 2 and "--weight colour=2" in bad.stderr


def test_filters_and_the_cut_off(indexed: tuple[Path, Path]) -> None:
    home, photos = indexed
    good = json.loads(cli(home, "search", "notes from a sailing trip", "--json").stdout)
    assert [Path(h["path"]).name for h in good["results"]] == ["trip.md"]
    nothing = cli(home, "search", "zqxv blorft", "--type", "document").stdout
    assert nothing.startswith("No good matches") and "trip.md" in nothing
    as_json = json.loads(cli(home, "search", "zqxv blorft", "--json").stdout)
    assert as_json["results"] == [] and len(as_json["closest"]) == 3
    some = cli(home, "search", "a photo", "--type", "jpeg", "--orientation", "landscape", "--all")
    assert len(some.stdout.splitlines()) == 8
    assert cli(home, "search", "a photo", "--orientation", "portrait", "--all").stdout.startswith(
        "No matches"
    )
    assert "No matches" in cli(home, "search", "x", "--after", "2999", "--all").stdout
    assert "No matches" in cli(home, "search", "x", "--in", str(photos / "sub"), "--all").stdout
    bad = cli(home, "search", "x", "--after", "someday", check=False)
    assert bad.returncode == 1 and "Cannot read the date" in bad.stderr


def test_status_and_errors(indexed: tuple[Path, Path]) -> None:
    home, _ = indexed
    status = json.loads(cli(home, "status", "--json").stdout)
    assert status["counts"]["image"] == {"indexed": 8, "failed": 1}
    assert status["counts"]["document"] == {"indexed": 1}
    assert status["roots"][0]["online"] is True
    errors = json.loads(cli(home, "errors", "--json").stdout)["errors"]
    assert [Path(e["path"]).name for e in errors] == ["broken.jpg"]
    assert "truncated" in errors[0]["error"] or "damaged" in errors[0]["error"]
    assert "Model:" in cli(home, "status").stdout


def test_models_list(indexed: tuple[Path, Path]) -> None:
    home, _ = indexed
    listed = json.loads(cli(home, "models", "list", "--json").stdout)["models"]
    names = {m["name"] for m in listed}
    assert {
        "ViT-B-32",
        "ViT-B-32-256",
        "MobileCLIP2-S0",
        "ViT-B-16",
        "xlm-roberta-base-ViT-B-32",
    } <= names
    assert next(m for m in listed if m["active"])["arch"] == ARCH


def test_user_errors_exit_1_with_one_line(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = indexed
    result = cli(home, "add", str(tmp_path / "missing"), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "is not a folder" in result.stderr
    result = cli(home, "similar", str(tmp_path / "nope.jpg"), check=False)
    assert result.returncode == 1 and "not in the library" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli(tmp_path, "frobnicate", check=False).returncode == 2
    assert cli(tmp_path, "search", check=False).returncode == 2


def test_missing_model_offline_tells_what_to_do(tmp_path: Path) -> None:
    home, photos = tmp_path / "home", tmp_path / "photos"
    save_scene(photos / "a.jpg", seed=1)
    cli(home, "add", str(photos))
    env_cache = {"HF_HUB_CACHE": str(tmp_path / "empty-cache")}
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--home", str(home), "index"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore", **env_cache},
    )
    assert result.returncode == 1
    assert "snapfind-cli models download" in result.stderr
    assert "Traceback" not in result.stderr


def test_model_threads_wait_passively_unless_the_person_chose(tmp_path: Path) -> None:
    """Set before torch loads, in the child process a command runs in (see threads.py)."""
    probe = "import os, sys; from desktop_app.cli import main; main(sys.argv[1:]); "
    probe += "print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    argv = [sys.executable, "-c", probe, "--home", str(tmp_path / "home"), "status"]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().splitlines()[-1] == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().splitlines()[-1] == "ACTIVE"


def test_index_adds_the_folders_it_is_given(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    home, photos = indexed
    more = tmp_path / "more"
    save_scene(more / "new.jpg", seed=99)
    run = cli(home, "index", str(more), str(photos / "."))  # one new, one held already
    assert run.stdout.count("Added") == 1 and str(more) in run.stdout
    status = json.loads(cli(home, "status", "--json").stdout)
    assert sorted(r["path"] for r in status["roots"]) == sorted([str(photos), str(more)])
    found = json.loads(
        cli(home, "search", "--image", str(more / "new.jpg"), "--json", "--all").stdout
    )
    assert found["results"][0]["path"] == str(more / "new.jpg")
    assert cli(home, "index", str(tmp_path / "missing"), check=False).returncode == 1
    cli(home, "remove", str(more))


class _Exited(Exception):
    pass


def test_the_command_ends_without_the_interpreters_teardown_once_its_output_is_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch's teardown alone costs 0.28 s: the command exits at once, with its exit code, once
    its output is flushed (the CLI tests above run through this path, as a person does)."""
    from desktop_app import cli as cli_module

    def quick(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(cli_module.os, "_exit", quick)
    monkeypatch.setattr(cli_module, "main", lambda: print("done") or 1)
    with pytest.raises(_Exited) as exited:
        cli_module.run()
    assert exited.value.args == (1,)
    assert capsys.readouterr().out == "done\n"


def test_a_thread_still_running_gets_the_normal_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The normal exit waits for a non-daemon thread; a quick one would cut its work off."""
    import threading

    from desktop_app import cli as cli_module

    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="still-writing")
    monkeypatch.setattr(cli_module.os, "_exit", lambda code: pytest.fail("exited quickly"))

    def main() -> int:
        worker.start()
        return 0

    monkeypatch.setattr(cli_module, "main", main)
    try:
        with pytest.raises(SystemExit) as exited:
            cli_module.run()
        assert exited.value.code == 0
    finally:
        release.set()
        worker.join()
