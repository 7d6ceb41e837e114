"""Model loading: open_clip preprocessing fidelity, offline errors, imports, MiniLM checks."""

import shutil
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from imagegen import save_scene
from PIL import Image
from tiny_model import ARCH

from desktop_app.core.encoders import catalog as models
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.text import (
    MINILM_SHA256,
    SentenceTransformerEncoder,
    bundled_minilm_dir,
)
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError, ModelNotAvailableError
from desktop_app.core.kinds.image import decode_image


def test_embeddings_match_open_clip_reference(
    tiny_clip: OpenClipEncoder, tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Our pipeline (decode + open_clip's preprocess) equals model.encode_image(preprocess)."""
    _, weights = tiny_model_files
    model, _, preprocess = open_clip.create_model_and_transforms(ARCH, pretrained=str(weights))
    model.eval()
    sizes = [(640, 480), (300, 500), (1024, 768), (64, 64)]
    for seed, size in enumerate(sizes):
        path = save_scene(tmp_path / f"{seed}.jpg", seed=seed, size=size)
        image, _ = decode_image(path.read_bytes())
        ours = tiny_clip.embed_images([image])[0]
        with torch.no_grad():
            ref = model.encode_image(preprocess(Image.open(path)).unsqueeze(0))[0].numpy()
        ref = ref / np.linalg.norm(ref)
        assert float(ours @ ref) >= 0.9999
        assert abs(float(np.linalg.norm(ours)) - 1.0) < 1e-5


def test_preset_preprocessing_follows_the_pretrained_tag() -> None:
    mobile = models.preset_preprocess(models.preset("MobileCLIP2-S0"))
    assert mobile["image_mean"] == (0.0, 0.0, 0.0)
    assert mobile["image_interpolation"] == "bilinear"
    assert models.preset_preprocess(models.preset("ViT-B-32"))["image_interpolation"] == "bicubic"


def test_missing_weights_offline_say_what_to_do(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "empty-hf-cache"))
    monkeypatch.setattr(models, "cached_weights", lambda p: None)
    catalog = models.ModelCatalog(home)
    with pytest.raises(ModelNotAvailableError) as err:
        catalog.spec("ViT-B-32")
    assert "snapfind-cli models download" in str(err.value)
    assert "snapfind-cli models import --arch ViT-B-32 FILE" in str(err.value)


def test_download_without_network_is_a_known_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "cached_weights", lambda p: None)
    with pytest.raises(ModelNotAvailableError, match="models import"):
        models.download(models.preset("ViT-B-32"))


def test_unknown_model_lists_choices(home: Path) -> None:
    with pytest.raises(KnownError, match="ViT-B-32-256"):
        models.ModelCatalog(home).spec("no-such-model")


def test_import_makes_a_local_file_the_active_model(
    home: Path, tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    config, weights = tiny_model_files
    with Engine(home) as engine:
        name = engine.import_model(ARCH, weights, config)
        assert engine.settings.clip_model == name
        choice = next(m for m in engine.model_choices() if m["name"] == name)
        assert choice["active"] and choice["available"]
        photo = save_scene(tmp_path / "p" / "a.jpg", seed=1)
        engine.add_root(photo.parent)
        list(engine.index())
        assert engine.search_image(photo, k=1)[0].score == pytest.approx(1.0, abs=1e-3)
        spec = engine.catalog.spec(name)
        assert spec.model_id.startswith(f"open_clip:{ARCH}/sha256-")


def test_import_rejects_bad_input(home: Path, tmp_path: Path) -> None:
    catalog = models.ModelCatalog(home)
    with pytest.raises(KnownError, match="No such weights file"):
        catalog.import_file("ViT-B-32", tmp_path / "missing.safetensors")
    odd = tmp_path / "weights.txt"
    odd.write_text("x")
    with pytest.raises(KnownError, match=r"expected a \.safetensors"):
        catalog.import_file("ViT-B-32", odd)
    fake = tmp_path / "w.safetensors"
    fake.write_text("x")
    with pytest.raises(KnownError, match="Unknown architecture"):
        catalog.import_file("Not-An-Arch", fake)


def test_damaged_weights_file_is_a_known_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 64)
    spec = models.ClipSpec("open_clip:x/broken", ARCH, broken, {}, "broken test model")
    with pytest.raises(KnownError, match="Could not load"):
        OpenClipEncoder(spec)


def test_pickled_weights_are_never_unpickled(tmp_path: Path) -> None:
    """torch.load(weights_only=True): a checkpoint carrying arbitrary objects is refused."""

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (shutil.rmtree, (str(tmp_path / "victim"),))

    (tmp_path / "victim").mkdir()
    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": {"x": Payload()}}, evil)
    spec = models.ClipSpec("open_clip:x/evil", ARCH, evil, {}, "evil")
    with pytest.raises(KnownError):
        OpenClipEncoder(spec)
    assert (tmp_path / "victim").exists()


def test_minilm_is_verified_and_real(minilm: SentenceTransformerEncoder) -> None:
    assert minilm.dim == 384
    a, b, c = minilm.embed_texts(
        ["a dog runs on the beach", "a puppy playing in the sand", "quarterly tax report"]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_tampered_minilm_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "minilm"
    shutil.copytree(bundled_minilm_dir(), copy)
    with open(copy / "model.safetensors", "r+b") as handle:
        handle.seek(-1, 2)
        handle.write(b"\x01")
    with pytest.raises(KnownError, match="SHA-256"):
        SentenceTransformerEncoder(copy, expected_sha256=MINILM_SHA256)


def test_download_reports_progress_and_can_be_cancelled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The GUI's progress callback receives huggingface_hub's byte counts and may cancel."""
    import huggingface_hub

    from desktop_app.core.errors import CancelledError

    def fake_download(repo_id: str, filename: str, tqdm_class: type, **_: object) -> str:
        bar = tqdm_class(total=1000)
        for _step in range(4):
            bar.update(250)
        bar.close()
        target = tmp_path / filename
        target.write_bytes(b"weights")
        return str(target)

    monkeypatch.setattr(models, "cached_weights", lambda p: None)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    seen: list[tuple[int, int | None]] = []
    path = models.download(
        models.preset("ViT-B-32"), lambda done, total: seen.append((done, total))
    )
    assert path.read_bytes() == b"weights"
    assert seen == [(250, 1000), (500, 1000), (750, 1000), (1000, 1000)]

    def cancel(done: int, total: int | None) -> None:
        raise CancelledError

    with pytest.raises(CancelledError):
        models.download(models.preset("ViT-B-32"), cancel)
