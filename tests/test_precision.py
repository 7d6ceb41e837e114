"""Fast image-tower paths: the fidelity check, refusal, the int8 export cache, draft decoding
and the thread budget, on the tiny random CLIP through the real loading code."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from imagegen import save_scene, scene
from PIL import Image
from pytestqt.qtbot import QtBot
from tiny_model import ARCH, write_tiny_model

from desktop_app.core.encoders import precision, towers
from desktop_app.core.encoders.catalog import ClipSpec
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError
from desktop_app.core.indexing.threads import ThreadBudget
from desktop_app.core.kinds.image import decode_image
from desktop_app.core.settings import Settings
from desktop_app.gui.settings_dialog import SettingsDialog


def _spec(weights: Path) -> ClipSpec:
    return ClipSpec(f"open_clip:{ARCH}/test", ARCH, weights, {}, "tiny test model")


def _embed(encoder: OpenClipEncoder, seeds: range = range(6)) -> np.ndarray:
    return encoder.embed_images([scene(seed, (96, 80)) for seed in seeds])


class _Noisy:
    """A deliberately broken fast path: fast, but its output is mostly noise."""

    def __init__(self, source: precision.TowerSource) -> None:
        self.reference = towers.TorchTower(source.visual)

    def __call__(self, pixels: torch.Tensor) -> np.ndarray:
        out = self.reference(pixels)
        rng = np.random.default_rng(0)
        return np.asarray(out + 3 * np.abs(out).mean() * rng.standard_normal(out.shape), "f4")

    def set_threads(self, threads: int) -> None:
        return None


def test_broken_fast_path_is_refused_and_fp32_runs_instead(
    tiny_model_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, weights = tiny_model_files
    built: list[str] = []

    def broken(source: precision.TowerSource) -> _Noisy:
        built.append("bf16")
        return _Noisy(source)

    monkeypatch.setitem(precision.BUILDERS, "bf16", broken)
    monkeypatch.setattr(precision, "MIN_SPEEDUP", 0.0)  # judge fidelity only
    reference = _embed(OpenClipEncoder(_spec(weights)))
    encoder = OpenClipEncoder(_spec(weights), precision="bf16", cache_dir=tmp_path)
    vectors = _embed(encoder)
    state = encoder.precision_state
    assert state is not None and state.active == "fp32"
    (report,) = state.reports
    assert not report.accepted and report.mean_cosine is not None
    assert report.mean_cosine < precision.MIN_MEAN_COSINE or report.relative_error > 0.2
    assert "refused" in state.note and "fp32" in state.note
    np.testing.assert_allclose(vectors, reference, atol=1e-5)
    # The refusal is remembered: the next start neither rebuilds nor re-checks the path.
    again = OpenClipEncoder(_spec(weights), precision="bf16", cache_dir=tmp_path)
    assert again.resolve_precision().active == "fp32" and built == ["bf16"]


def test_faithful_fast_path_is_used_and_matches_fp32(
    tiny_model_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, weights = tiny_model_files
    monkeypatch.setattr(precision, "MIN_SPEEDUP", 0.0)  # a tiny model gains nothing from bf16
    reference = _embed(OpenClipEncoder(_spec(weights)))
    encoder = OpenClipEncoder(_spec(weights), precision="bf16", cache_dir=tmp_path)
    vectors = _embed(encoder)
    state = encoder.precision_state
    assert state is not None and state.active == "bf16", state.reports
    (report,) = state.reports
    assert report.accepted and report.mean_cosine is not None and report.mean_cosine > 0.999
    assert report.top_k_overlap is not None and report.top_k_overlap >= 0.9
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.99


def test_int8_export_is_cached_and_rebuilt_when_the_weights_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, weights = write_tiny_model(tmp_path / "model", seed=1)
    cache = tmp_path / "fast"
    exports: list[Path] = []
    real_export = towers.export_int8

    def counted(visual: torch.nn.Module, example: torch.Tensor, folder: Path, manifest: dict):  # type: ignore[no-untyped-def,type-arg]
        exports.append(folder)
        real_export(visual, example, folder, manifest)

    monkeypatch.setattr(towers, "export_int8", counted)
    monkeypatch.setattr(precision, "MIN_SPEEDUP", 0.0)
    reference = _embed(OpenClipEncoder(_spec(weights)))
    first = OpenClipEncoder(_spec(weights), precision="onnx-int8", cache_dir=cache)
    vectors = _embed(first)
    assert first.precision_state is not None and first.precision_state.active == "onnx-int8"
    assert len(exports) == 1 and (exports[0] / "image-int8.onnx").is_file()
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.99

    # Same weights: the cached export and check are reused.
    second = OpenClipEncoder(_spec(weights), precision="onnx-int8", cache_dir=cache)
    np.testing.assert_allclose(_embed(second), vectors, atol=1e-6)
    assert len(exports) == 1

    # Other weights written to the same file: a fresh export, the stale one removed.
    write_tiny_model(tmp_path / "model", seed=2)
    third = OpenClipEncoder(_spec(weights), precision="onnx-int8", cache_dir=cache)
    new_vectors = _embed(third)
    assert len(exports) == 2 and exports[1] != exports[0]
    assert not exports[0].exists() and exports[1].is_dir()
    new_reference = _embed(OpenClipEncoder(_spec(weights)))
    assert np.min(np.sum(new_vectors * new_reference, axis=1)) > 0.99
    assert np.max(np.sum(new_vectors * vectors, axis=1)) < 0.999  # not the old model's output


def test_engine_precision_setting_is_checked_and_shown(
    home: Path, tiny_model_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, weights = tiny_model_files
    monkeypatch.setitem(precision.BUILDERS, "bf16", _Noisy)
    monkeypatch.setattr(precision, "MIN_SPEEDUP", 0.0)
    with Engine(home) as engine:
        engine.import_model(ARCH, weights, config)
        with pytest.raises(KnownError, match="Unknown precision"):
            engine.set_precision("int4")
        engine.set_precision("bf16")
        assert engine.settings.precision == "bf16"
        status = engine.precision_status(check=True)
        assert status["active"] == "fp32" and "refused" in str(status["note"])
    with Engine(home, writer=False) as reader:  # a fresh process: the recorded check is shown
        shown = reader.precision_status()
        assert shown["setting"] == "bf16" and shown["active"] is None
        assert any("refused" in line for line in shown["checks"])  # type: ignore[attr-defined]


def _jpeg(seed: int, size: tuple[int, int], orientation: int | None = None) -> bytes:
    picture = scene(seed, size)
    grain = np.random.default_rng(seed).integers(-8, 9, (size[1], size[0], 1))
    picture = Image.fromarray(np.clip(np.asarray(picture, "i2") + grain, 0, 255).astype("u1"))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def test_draft_decoding_keeps_embeddings_and_the_full_size(tiny_clip: OpenClipEncoder) -> None:
    for seed, size, orientation in (
        (1, (1600, 1200), None),
        (2, (1200, 1600), 6),
        (3, (900, 900), 8),
    ):
        data = _jpeg(seed, size, orientation)
        full, meta_full = decode_image(data)
        drafted, meta_draft = decode_image(data, draft_size=tiny_clip.draft_size)
        assert min(drafted.size) < min(full.size) // 2  # really decoded at a reduced scale
        assert min(drafted.size) >= tiny_clip.draft_size
        assert (meta_draft.width, meta_draft.height) == (meta_full.width, meta_full.height)
        assert (meta_full.width, meta_full.height) == full.size
        a, b = tiny_clip.embed_images([full, drafted])
        assert float(a @ b) >= 0.999


def test_indexing_records_full_size_of_drafted_photos(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    save_scene(folder / "wide.jpg", 5, (1200, 800), quality=90)
    engine.add_root(folder)
    list(engine.index())
    record = engine.file(str(folder / "wide.jpg"))
    assert (record.width, record.height) == (1200, 800)
    assert engine.search_image(folder / "wide.jpg", k=1)[0].path == str(folder / "wide.jpg")


class _Model:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def set_threads(self, threads: int) -> None:
        self.calls.append(threads)


def test_thread_budget_gives_the_model_every_core_only_while_decoding_is_cheap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("desktop_app.core.indexing.threads.cores", lambda: 2)
    model = _Model()
    budget = ThreadBudget(model)
    assert model.calls == [1]  # starts leaving a core to the decode worker
    for _ in range(2):
        budget.record(decode_s=16 * 0.005, model_s=16 * 0.060, pictures=16)  # small JPEGs
    assert budget.threads == 2 and model.calls[-1] == 2
    for _ in range(2):
        budget.record(decode_s=16 * 0.150, model_s=16 * 0.180, pictures=16)  # 12 MP photos
    assert budget.threads == 1 and model.calls[-1] == 1
    budget.close()
    assert model.calls[-1] == 2  # queries get every core again
    cheap = _Model()
    ThreadBudget(cheap).first_batch(decode_s=16 * 0.004, pictures=16)  # 640×480 JPEGs
    assert cheap.calls == [1, 2]  # every core from the first batch on
    costly = _Model()
    ThreadBudget(costly).first_batch(decode_s=16 * 0.035, pictures=16)  # 12 MP, draft scale
    assert costly.calls == [1]
    fixed = _Model()
    pinned = ThreadBudget(fixed, fixed=1)
    pinned.first_batch(decode_s=0.01, pictures=16)
    pinned.record(decode_s=0.01, model_s=10.0, pictures=64)
    pinned.close()
    assert fixed.calls == [1, 1]


def test_cli_sets_checks_and_shows_the_precision(
    home: Path, tiny_model_files: tuple[Path, Path]
) -> None:
    config, weights = tiny_model_files
    with Engine(home) as engine:
        engine.import_model(ARCH, weights, config)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    command = ["precision", "onnx-int8", "--check", "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--home", str(home), *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["setting"] == "onnx-int8" and status["active"] in ("onnx-int8", "fp32")
    (line,) = status["checks"]
    assert line.startswith("onnx-int8: ") and "cosine to fp32 mean" in line
    assert (status["active"] == "fp32") == ("refused" in line)
    assert Settings.load(home / "settings.json").precision == "onnx-int8"


def test_settings_dialog_offers_precision_and_shows_the_check(qtbot: QtBot) -> None:
    checks = ["bf16: refused: not faster than fp32 on this CPU (0.90×)"]
    models: list[dict[str, object]] = [{"name": "ViT-B-32", "available": True}]
    dialog = SettingsDialog(
        models, "ViT-B-32", "/data", [], False, 0, precision="auto", precision_checks=checks
    )
    qtbot.addWidget(dialog)
    assert dialog.precision_checks.text() == checks[0]
    assert dialog.choice().precision == "auto"
    dialog.precision.setCurrentIndex(dialog.precision.findData("bf16"))
    assert dialog.choice().precision == "bf16"
