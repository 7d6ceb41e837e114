"""The image tower saved at its decided precision: rebuilt without open_clip, it gives the same
vectors, is used only for the precision it was saved for, and an index run after the first one
never imports open_clip."""

from pathlib import Path

import numpy as np
import pytest
from cli_child import modules_of, output_and_modules, run_cli
from imagegen import save_scene, scene
from test_text_pack import _encoder, _pack
from tiny_model import ARCH

from desktop_app.core.encoders import visual_pack
from desktop_app.core.encoders.packed_clip import PackedClipEncoder
from desktop_app.core.encoders.text_tower import PackedTextEncoder
from desktop_app.core.encoders.towers import BF16, FP32


@pytest.mark.parametrize("precision", [FP32, BF16])
def test_the_decided_tower_is_saved_and_rebuilt_with_the_same_vectors(
    tiny_model_files: tuple[Path, Path], tmp_path: Path, precision: str
) -> None:
    _, weights = tiny_model_files
    encoder = _encoder(weights, tmp_path)
    encoder._requested = precision  # as the settings would ask
    assert encoder.export_text_pack() == ""
    info = _pack(tmp_path, weights)
    assert info is not None and info.image is not None
    state = encoder.resolve_precision()  # decides, then saves beside the text pack
    pictures = [scene(seed, (320, 240)) for seed in range(6)]
    reference = encoder.embed_images(pictures)

    words = visual_pack.Words(PackedTextEncoder(info).embed_texts, info.logit_scale)
    saved = visual_pack.load_visual(info.folder, precision, info.image, words)
    if state.active != precision:  # bf16 refused on this CPU: fp32 was decided and saved
        assert saved is None or saved.precision_state.active == FP32
        return
    assert saved is not None
    assert saved.precision_state.active == precision
    ours = saved.embed_images(pictures)
    assert float(np.min(np.sum(ours * reference, axis=1))) >= 0.9999
    np.testing.assert_allclose(
        saved.embed_texts(["a red boat"]), encoder.embed_texts(["a red boat"]), atol=1e-5
    )
    # Saved for another precision setting, or by an older recipe: not used.
    other = FP32 if precision == BF16 else BF16
    assert visual_pack.load_visual(info.folder, other, info.image, words) is None
    manifest = info.folder / visual_pack.MANIFEST
    manifest.write_text(manifest.read_text("utf-8").replace(visual_pack.RECIPE, "old"), "utf-8")
    assert visual_pack.load_visual(info.folder, precision, info.image, words) is None


def test_the_packed_encoder_indexes_from_the_saved_tower_and_rechecks_with_the_full_model(
    tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, weights = tiny_model_files
    encoder = _encoder(weights, tmp_path)
    assert encoder.export_text_pack() == ""
    encoder.resolve_precision()
    info = _pack(tmp_path, weights)
    assert info is not None and info.image is not None
    words = visual_pack.Words(PackedTextEncoder(info).embed_texts, info.logit_scale)
    loads: list[str] = []

    def load_full():  # type: ignore[no-untyped-def]
        loads.append("full")
        return _encoder(weights, tmp_path)

    def load_pictures():  # type: ignore[no-untyped-def]
        loads.append("saved")
        return visual_pack.load_visual(info.folder, FP32, info.image, words)  # as decided

    packed = PackedClipEncoder(info, load_full, load_pictures, pictures_load_quickly=True)
    onnx_batches: list[int] = []
    onnx_run = packed._image_tower.run
    packed._image_tower.run = lambda pixels: onnx_batches.append(len(pixels)) or onnx_run(pixels)
    pictures = [scene(seed, (320, 240)) for seed in range(4)]
    packed.embed_prepared([packed.prepare_image(p) for p in pictures])
    # The first batch went through the ONNX tower; the next waits for the saved one.
    later = packed.embed_prepared([packed.prepare_image(p) for p in pictures])
    assert onnx_batches == [4] and packed.full_loaded
    assert loads == ["saved"]
    reference = encoder.embed_images(pictures)
    assert float(np.min(np.sum(later * reference, axis=1))) >= 0.9999
    assert packed.resolve_precision(recheck=True).active == FP32 or loads == ["saved", "full"]
    assert loads == ["saved", "full"]  # a recheck needs the fp32 tower of the full model


def test_an_imported_model_indexes_without_open_clip_from_the_first_run(
    tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    home, photos = tmp_path / "home", tmp_path / "photos"
    for i in range(6):
        save_scene(photos / f"a{i}.jpg", seed=i)
    config, weights = tiny_model_files
    # The import decides the precision and saves the tower, as it makes the query pack.
    run_cli(home, "models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    assert list((home / "models" / "fast").glob(f"text-*/{visual_pack.MANIFEST}"))
    run_cli(home, "add", str(photos))
    for run in range(2):
        if run:
            for i in range(6, 12):
                save_scene(photos / f"b{i}.jpg", seed=i)
        index = run_cli(home, "index")
        modules = modules_of(index)
        assert "torch" in modules and "open_clip" not in modules
    query = ("search", "--image", str(photos / "a2.jpg"), "--json", "--all", "-k", "3")
    found, _ = output_and_modules(run_cli(home, *query))
    assert found["results"][0]["path"] == str(photos / "a2.jpg")
    # Stored by the saved tower, queried through the ONNX one: the same vector.
    assert found["results"][0]["score"] == pytest.approx(1.0, abs=1e-3)
    _, modules = output_and_modules(run_cli(home, *query))  # a picture query: no torch
    assert "torch" not in modules
