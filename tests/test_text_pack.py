"""The torch-free text query path: the pure tokenizer, the exported text tower checked against
open_clip's, its cache, stored neutral prompts, and a CLI search that never imports torch."""

import marshal
import os
import random
import shutil
import string
from pathlib import Path

import numpy as np
import open_clip
import pytest
from cli_child import output_and_modules, run_cli
from imagegen import save_scene, scene
from tiny_model import ARCH, CONFIG

from desktop_app.core.encoders import text_tower
from desktop_app.core.encoders.catalog import ClipSpec
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.clip_tokenizer import ClipTokenizer, default_vocab_file
from desktop_app.core.encoders.identity import weights_identity
from desktop_app.core.encoders.packed_clip import PackedClipEncoder
from desktop_app.core.encoders.text_export import remember_weights
from desktop_app.core.searching import relevance

PHRASES = [
    "a dog on a beach at sunset",
    "A PHOTO of   a Café &amp; bar\n",
    "naïve résumé 東京タワー 🐶",
    "it's what we've done, isn't it?!",
    "",
    "ﬁne ligature ＦＵＬＬ width",
    "Ελληνικά русский العربية",
    "word " * 100,
]


def test_tokenizer_gives_open_clips_token_ids() -> None:
    ours = ClipTokenizer(default_vocab_file())
    reference = open_clip.get_tokenizer("ViT-B-32")
    rng = random.Random(7)
    texts = PHRASES + [
        "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40))) for _ in range(300)
    ]
    texts += ["".join(chr(rng.randint(32, 0x3000)) for _ in range(12)) for _ in range(100)]
    np.testing.assert_array_equal(ours(texts), reference(texts).numpy())


def _encoder(weights: Path, cache: Path) -> OpenClipEncoder:
    spec = ClipSpec(f"open_clip:{ARCH}/pack-test", ARCH, weights, {}, "tiny test model")
    return OpenClipEncoder(spec, cache_dir=cache)


def _pack(cache: Path, weights: Path) -> text_tower.PackInfo | None:
    identity = weights_identity(weights, f"open_clip:{ARCH}/pack-test")
    return text_tower.read_pack(text_tower.pack_folder(cache, identity), identity)


def test_the_tokenizers_kept_ranks_give_the_same_ids_and_follow_the_file(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt.gz"
    shutil.copyfile(default_vocab_file(), vocab)
    reference = ClipTokenizer(default_vocab_file())(PHRASES)
    np.testing.assert_array_equal(ClipTokenizer(vocab)(PHRASES), reference)  # writes the copy
    kept = tmp_path / "vocab.txt.gz.ranks"
    assert kept.is_file()
    np.testing.assert_array_equal(ClipTokenizer(vocab)(PHRASES), reference)  # reads it
    kept.write_bytes(b"\x00garbage")
    np.testing.assert_array_equal(ClipTokenizer(vocab)(PHRASES), reference)  # rebuilt
    # A copy is used only for the file it was made from: a wrong one with the file's stamp is
    # believed (so the copy really is what is read), with another stamp it is not.
    stamp, ranks = marshal.loads(kept.read_bytes())
    wrong = dict(zip(ranks, reversed(list(ranks.values())), strict=True))
    kept.write_bytes(marshal.dumps((stamp, wrong)))
    assert not np.array_equal(ClipTokenizer(vocab)(PHRASES), reference)
    os.utime(vocab, ns=(1, 1))
    np.testing.assert_array_equal(ClipTokenizer(vocab)(PHRASES), reference)


def test_exported_tower_matches_open_clip_and_follows_the_weights(
    tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, source = tiny_model_files
    weights = tmp_path / "weights.safetensors"
    shutil.copyfile(source, weights)
    cache = tmp_path / "fast"
    encoder = _encoder(weights, cache)
    assert encoder.export_text_pack() == ""
    info = _pack(cache, weights)
    assert info is not None and info.causal and info.dim == CONFIG["embed_dim"]
    packed = text_tower.PackedTextEncoder(info)
    ours = np.concatenate([packed.embed_texts([p]) for p in PHRASES])
    reference = encoder.embed_texts(PHRASES)
    assert float(np.min(np.sum(ours * reference, axis=1))) >= 0.9999
    # A batch pads to its longest phrase: the result is the same as one phrase at a time.
    np.testing.assert_allclose(packed.embed_texts(PHRASES), ours, atol=2e-5)
    assert info.logit_scale == pytest.approx(encoder.logit_scale)
    # Query pictures through the exported image tower, without torch: the full model's vectors.
    pictures = [scene(seed, size) for seed, size in enumerate([(640, 480), (300, 500), (64, 64)])]
    fast = PackedClipEncoder(info, lambda: pytest.fail("the full model was loaded"))
    cosines = np.sum(fast.embed_images(pictures) * encoder.embed_images(pictures), axis=1)
    assert float(cosines.min()) >= 0.9999

    # Other weights in the same file (rewritten): the pack is stale, a new one replaces it.
    state = {k: v.clone() for k, v in encoder._model.state_dict().items()}
    state["text_projection"] = state["text_projection"] * -1.0
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(weights))
    os.utime(weights, ns=(1, 1))  # a different modification time, whatever the clock
    assert _pack(cache, weights) is None
    changed = _encoder(weights, cache)
    assert changed.export_text_pack() == ""
    fresh = _pack(cache, weights)
    assert fresh is not None
    assert len(list(cache.glob("text-*"))) == 1  # the stale export is gone
    flipped = text_tower.PackedTextEncoder(fresh).embed_texts(["a dog"])
    np.testing.assert_allclose(flipped, -packed.embed_texts(["a dog"]), atol=1e-5)


def test_indexing_starts_on_the_exported_tower_and_moves_to_the_full_model(
    tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, weights = tiny_model_files
    encoder = _encoder(weights, tmp_path)
    assert encoder.export_text_pack() == ""
    info = _pack(tmp_path, weights)
    assert info is not None and info.image is not None
    loads: list[str] = []

    def load_full() -> OpenClipEncoder:
        loads.append("full")
        return _encoder(weights, tmp_path)

    packed = PackedClipEncoder(info, load_full)
    pictures = [scene(seed, (320, 240)) for seed in range(4)]
    prepared = [packed.prepare_image(p) for p in pictures]  # no torch needed for this
    for ours, theirs in zip(prepared, pictures, strict=True):
        np.testing.assert_allclose(ours, encoder.prepare_image(theirs).numpy(), atol=1e-5)
    reference = encoder.embed_images(pictures)
    first = packed.embed_prepared(prepared)  # the exported tower; the full model loads behind
    assert packed.wait_for_full_model(timeout=120)
    assert packed.full_loaded and loads == ["full"]
    later = packed.embed_prepared(prepared)  # now the full model, at its chosen precision
    assert packed.precision_state is not None
    for vectors in (first, later):
        assert float(np.min(np.sum(vectors * reference, axis=1))) >= 0.999
    assert loads == ["full"]  # loaded once


def test_a_tower_it_cannot_reproduce_is_refused_and_remembered(
    tiny_model_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, weights = tiny_model_files
    encoder = _encoder(weights, tmp_path)
    monkeypatch.setattr(encoder, "_plain_tokenizer", False)
    reason = encoder.export_text_pack()
    assert "not exportable" in reason and "tokenizer" in reason
    assert _pack(tmp_path, weights) is None
    assert encoder.export_text_pack() == reason  # not tried again at every start


def test_a_failed_check_refuses_the_pack(
    tiny_model_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, weights = tiny_model_files
    monkeypatch.setattr(text_tower, "_erf", lambda x: np.tanh(x))  # a wrong activation
    reason = _encoder(weights, tmp_path).export_text_pack()
    assert "below 0.9999" in reason
    assert _pack(tmp_path, weights) is None


def test_pointer_finds_the_pack_only_for_unchanged_weights(
    tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, source = tiny_model_files
    weights = tmp_path / "w.safetensors"
    shutil.copyfile(source, weights)
    cache = tmp_path / "fast"
    assert _encoder(weights, cache).export_text_pack() == ""
    remember_weights(cache, "mine", weights, f"open_clip:{ARCH}/pack-test")
    assert text_tower.find_pack(cache, "mine") is not None
    assert text_tower.find_pack(cache, "other") is None
    weights.write_bytes(weights.read_bytes())  # rewritten: another mtime
    os.utime(weights, ns=(2, 2))
    assert text_tower.find_pack(cache, "mine") is None


class _Counting:
    model_id, dim, logit_scale = "counting", 4, 100.0

    def __init__(self) -> None:
        self.calls = 0

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        rng = np.random.default_rng(len(texts))
        vectors = rng.standard_normal((len(texts), 4)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_neutral_prompt_vectors_are_stored_per_model(tmp_path: Path) -> None:
    model = _Counting()
    first = relevance.NeutralVectors(tmp_path).get("clip", model)
    again = relevance.NeutralVectors(tmp_path).get("clip", model)  # another process, say
    np.testing.assert_array_equal(first, again)
    assert model.calls == 1
    model.model_id = "another"
    relevance.NeutralVectors(tmp_path).get("clip", model)
    assert model.calls == 2
    relevance.NeutralVectors(None).get("clip", model)  # nowhere to keep them: computed
    assert model.calls == 3


def test_cli_text_search_runs_without_torch_and_matches_the_torch_path(
    tiny_model_files: tuple[Path, Path], tmp_path: Path
) -> None:
    home, photos = tmp_path / "home", tmp_path / "photos"
    for i in range(10):
        save_scene(photos / f"img{i}.jpg", seed=i)
    config, weights = tiny_model_files
    run_cli(home, "models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    assert list((home / "models" / "fast").glob("text-*/manifest.json"))  # made at import
    run_cli(home, "add", str(photos))
    run_cli(home, "index")
    query = ("search", "a boat on the sea", "--json", "--all", "-k", "10")

    (pack,) = [p for p in (home / "models" / "fast").glob("text-*") if p.is_dir()]
    shutil.rmtree(pack)
    torch_path, modules = output_and_modules(run_cli(home, *query))
    assert "torch" in modules
    # That query made the pack again, after answering: the next one runs without torch.
    packed, modules = output_and_modules(run_cli(home, *query))
    assert not {"torch", "open_clip", "onnxruntime", "sentence_transformers"} & modules
    ranked = [(h["path"], h["rank"]) for h in packed["results"]]
    assert ranked == [(h["path"], h["rank"]) for h in torch_path["results"]]
    assert len(ranked) == 10
    for ours, theirs in zip(packed["results"], torch_path["results"], strict=True):
        assert ours["score"] == pytest.approx(theirs["score"], abs=1e-5)
        assert ours["relevance"] == pytest.approx(theirs["relevance"], abs=1e-4)
    assert list((home / "models" / "neutral").glob("clip-*.npy"))
    picture = ("search", "--image", str(photos / "img3.jpg"), "--json", "--all", "-k", "5")
    by_picture, modules = output_and_modules(run_cli(home, *picture))
    assert "torch" not in modules
    assert by_picture["results"][0]["path"] == str(photos / "img3.jpg")
    assert by_picture["results"][0]["score"] == pytest.approx(1.0, abs=1e-4)
    # With notes in the library the text space holds units, but a picture has no place among
    # words: a picture query still loads neither torch nor the sentence model.
    (photos / "note.txt").write_text("A shopping list: apples, pears and bread.\n", "utf-8")
    run_cli(home, "index")
    by_picture, modules = output_and_modules(run_cli(home, *picture))
    assert not {"torch", "sentence_transformers"} & modules
    assert by_picture["results"][0]["path"] == str(photos / "img3.jpg")
