"""The multilingual model path: a transformers text tower whose config and tokenizer come from
the HF cache or an imported folder, model selection, and the re-index a model change causes."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_index
from imagegen import save_scene
from tiny_model import ARCH as TINY_ARCH
from tiny_multilingual import ARCH, REPO, write_tiny_multilingual

from desktop_app.core.encoders.text import SentenceTransformerEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.errors import ModelNotAvailableError

QUERIES = [
    "a dog on a beach at sunset",
    "ein Hund am Strand bei Sonnenuntergang",
    "夕暮れのビーチにいる犬",
    "собака на пляже на закате",
]


@pytest.fixture(scope="module")
def multilingual_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return write_tiny_multilingual(tmp_path_factory.mktemp("multilingual"))


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty Hugging Face cache of the test's own."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    yield cache


def _cache_text_tower(cache: Path, tower: Path) -> None:
    """Lay the tower out as huggingface_hub caches a download of ``REPO``."""
    repo = cache / ("models--" + REPO.replace("/", "--"))
    snapshot = repo / "snapshots" / "0123456789abcdef"
    shutil.copytree(tower, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123456789abcdef")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i in range(4):
        save_scene(folder / f"p{i}.jpg", seed=i)
    return folder


def test_switching_to_the_multilingual_model_re_embeds_and_answers_other_languages(
    tmp_path: Path,
    hf_cache: Path,
    photos: Path,
    tiny_model_files: tuple[Path, Path],
    multilingual_files: tuple[Path, Path, Path],
    minilm: SentenceTransformerEncoder,
) -> None:
    config, weights, tower = multilingual_files
    engine = Engine(tmp_path / "home", text_loader=lambda: minilm)
    try:
        engine.import_model(TINY_ARCH, tiny_model_files[1], tiny_model_files[0])
        engine.add_root(photos)
        run_index(engine)
        (before,) = [s for s in engine.status().vector_sets if s["space"] == "clip"]

        with pytest.raises(ModelNotAvailableError, match="--text-tower"):
            engine.import_model(ARCH, weights, config)  # tokenizer neither cached nor given
        _cache_text_tower(hf_cache, tower)
        name = engine.import_model(ARCH, weights, config)  # the cached tokenizer is used
        assert engine.settings.clip_model == name
        assert next(m for m in engine.model_choices() if m["active"])["arch"] == ARCH

        progress = run_index(engine)
        assert max(p.total for p in progress if p.phase == "images") == 4  # all re-embedded
        (after,) = [s for s in engine.status().vector_sets if s["space"] == "clip"]
        assert after["model_id"] != before["model_id"] and after["vectors"] == 4
        assert after["dim"] == 32 and before["dim"] == 64

        answers = [engine.search(q, k=4, kinds=("image",)) for q in QUERIES]
        assert all(len(a) == 4 for a in answers)
        scores = {tuple(round(h.score, 5) for h in a) for a in answers}
        assert len(scores) == len(QUERIES)  # each language is read, not one fallback token
        again = engine.search(QUERIES[2], k=4, kinds=("image",))
        assert [h.path for h in again] == [h.path for h in answers[2]]
    finally:
        engine.close()


def test_import_with_a_text_tower_folder_works_offline_through_the_cli(
    tmp_path: Path, photos: Path, multilingual_files: tuple[Path, Path, Path]
) -> None:
    config, weights, tower = multilingual_files
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(tmp_path / "empty-cache"),
        "PYTHONWARNINGS": "ignore",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "desktop_app", "--home", str(home), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    missing = cli("models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    assert missing.returncode == 1 and "--text-tower FOLDER" in missing.stderr
    imported = cli(
        "models", "import", "--arch", ARCH, "--config", str(config),
        "--text-tower", str(tower), str(weights),
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    copied = next((home / "models" / "imported").glob("*-text"))
    assert {p.name for p in copied.iterdir()} == {p.name for p in tower.iterdir()}
    assert cli("add", str(photos)).returncode == 0
    assert cli("index").returncode == 0
    found = cli("search", "ein Hund am Strand", "--type", "image", "--all", "--json")
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["results"]) == 4
