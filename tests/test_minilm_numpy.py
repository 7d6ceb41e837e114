"""The document model's torch-free path: the numpy MiniLM against sentence-transformers on the
real bundled weights, the hybrid encoder a library runs, the remembered hash check, and a CLI
search of a library with notes that never imports torch."""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_child import output_and_modules, run_cli
from imagegen import save_scene
from threadpoolctl import threadpool_limits
from tiny_model import ARCH

from desktop_app.core.encoders import identity
from desktop_app.core.encoders import text as text_module
from desktop_app.core.encoders.minilm_numpy import NumpyMiniLM, read_recipe
from desktop_app.core.encoders.text import (
    MINILM_SHA256,
    NUMPY_MAX_TOKENS,
    MiniLMEncoder,
    SentenceTransformerEncoder,
    bundled_minilm_dir,
)
from desktop_app.core.engine import Engine
from desktop_app.core.errors import KnownError

PHRASES = [
    "a dog on a beach at sunset",
    "dog",
    "x",
    "",
    "   ",
    "\n\t\n",
    "!!!",
    "A PHOTO of   a Café &amp; bar\n",
    "naïve résumé 東京タワー 🐶",
    "Ελληνικά русский العربية עברית",
    "ﬁne ligature ＦＵＬＬ width",
    "it's what we've done, isn't it?!",
    "C'était l'été à Zürich; façade, œuvre, straße",
    "e-mail me at someone@example.org or call +1 (555) 010-9999",
    "def embed_texts(self, texts: Sequence[str]) -> np.ndarray:",
    "2026-11-29 18:50:42 UTC — quarterly tax report, Q3 figures",
    "zqxv blorft qwerty asdf",
    "UPPER CASE SHOUTING ABOUT THE WEATHER",
    "the the the the the the the the",
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "Notes from our sailing trip along the coast.",
    "Meeting minutes: budget, hiring plan, and the office move in March.",
    "\u200b\u200bzero width\u200d joiners\ufeff",
    "emoji only 🎉🎉🔥👍🏽",
    "한국어 문장과 日本語の文 and 中文句子",
    "word " * 300,  # over the 256-token window: truncated alike
    "a long paragraph about gardening. " * 40,
    " ".join(f"token{i}" for i in range(200)),
    "tabs\tand\nnew\r\nlines\x0bhere",
    "Recipe: 200 g flour, 3 eggs, a pinch of salt; bake 25 min at 180 °C.",
]

DOCUMENTS = [
    "Notes from our sailing trip along the coast, boats and harbours.",
    "Quarterly tax report with income and expenses for the accountant.",
    "Recipe for sourdough bread: flour, water, salt and a long rise.",
    "Meeting minutes about the hiring plan and the office move.",
    "The dog played fetch on the beach until sunset.",
    "Installing Python packages in a virtual environment.",
    "Gardening tips: when to plant tomatoes and how to water them.",
    "A poem about the sea at night, stars and waves.",
]
QUERIES = ["boats", "taxes", "baking bread", "puppy at the seaside", "vegetable garden", "pip"]


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Both models on one thread, as the suite's heavy model tests are."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def numpy_minilm() -> NumpyMiniLM:
    return NumpyMiniLM(bundled_minilm_dir())


def test_numpy_minilm_matches_sentence_transformers(
    one_thread: None, numpy_minilm: NumpyMiniLM, minilm: SentenceTransformerEncoder
) -> None:
    ours = numpy_minilm.embed_texts(PHRASES)
    theirs = minilm.embed_texts(PHRASES)
    cosines = np.sum(ours * theirs, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.9999, f"{PHRASES[worst]!r}: cosine {cosines[worst]}"
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # One at a time (a query's shape: no padding) gives the batch's vectors.
    alone = np.stack([numpy_minilm.embed_texts([p])[0] for p in PHRASES[:8]])
    np.testing.assert_allclose(alone, ours[:8], atol=1e-5)
    assert numpy_minilm.max_tokens == minilm.max_tokens == 254
    assert numpy_minilm.dim == minilm.dim == 384
    for phrase in PHRASES:
        assert numpy_minilm.count_tokens(phrase) == minilm.count_tokens(phrase), phrase
    # The long ones were cut at the window (their token count runs past it).
    assert numpy_minilm.count_tokens(PHRASES[25]) > numpy_minilm.max_tokens


def test_numpy_minilm_ranks_documents_as_sentence_transformers(
    one_thread: None, numpy_minilm: NumpyMiniLM, minilm: SentenceTransformerEncoder
) -> None:
    docs = minilm.embed_texts(DOCUMENTS)  # indexed by torch, as a library's notes are
    ours = numpy_minilm.embed_texts(QUERIES) @ docs.T
    theirs = minilm.embed_texts(QUERIES) @ docs.T
    assert (np.argsort(-ours, axis=1) == np.argsort(-theirs, axis=1)).all()
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    # And it ranks sensibly: each query's best document is the one written for it.
    assert list(np.argmax(ours, axis=1)) == [0, 1, 2, 4, 6, 5]


def test_folders_it_cannot_run_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "minilm"
    shutil.copytree(bundled_minilm_dir(), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    assert read_recipe(folder) is not None
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_cls_token": True}))
    assert read_recipe(folder) is None  # CLS pooling: sentence-transformers does it
    pooling.write_text(json.dumps(config))
    (folder / "tokenizer.json").unlink()
    assert read_recipe(folder) is None


def test_library_encoder_keeps_torch_for_large_batches(
    one_thread: None, minilm: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    encoder = MiniLMEncoder(cache_dir=tmp_path)
    assert (encoder.model_id, encoder.dim, encoder.max_tokens) == (
        minilm.model_id,
        384,
        minilm.max_tokens,
    )
    query = encoder.embed_texts(["a dog on a beach"])
    prompts = encoder.embed_texts([f"a note about topic {i}." for i in range(10)])
    assert not encoder.full_loaded  # queries and small batches: numpy only
    chunks = ["a long paragraph about gardening. " * 30] * 3  # 3 × 211 tokens
    assert sum(encoder.count_tokens(c) for c in chunks) > NUMPY_MAX_TOKENS
    big = encoder.embed_texts(chunks)
    assert encoder.full_loaded
    np.testing.assert_allclose(big, minilm.embed_texts(chunks), atol=1e-6)
    again = encoder.embed_texts(["a dog on a beach"])  # still numpy: the same query vector
    np.testing.assert_array_equal(again, query)
    assert float(np.sum(query * minilm.embed_texts(["a dog on a beach"]))) >= 0.9999
    assert prompts.shape == (10, 384)


def test_hash_check_is_remembered_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, cache = tmp_path / "minilm", tmp_path / "cache"
    shutil.copytree(bundled_minilm_dir(), folder)
    weights = folder / "model.safetensors"
    text_module.verify_weights(folder, MINILM_SHA256, cache)
    assert identity.sha256_checked_before(weights, MINILM_SHA256, cache)
    assert not identity.sha256_checked_before(weights, "0" * 64, cache)

    hashed: list[int] = []
    real_sha256 = text_module.hashlib.sha256

    def counting_sha256() -> object:
        hashed.append(1)
        return real_sha256()

    monkeypatch.setattr(text_module.hashlib, "sha256", counting_sha256)
    running = MiniLMEncoder(folder, cache_dir=cache)  # another start: the verdict stands
    assert hashed == []

    stat = weights.stat()
    with open(weights, "r+b") as handle:  # one byte changed, the times put back
        handle.seek(-1, 2)
        handle.write(b"\x01")
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert weights.stat().st_size == stat.st_size
    with pytest.raises(KnownError, match="SHA-256"):
        MiniLMEncoder(folder, cache_dir=cache)
    assert hashed == [1]
    # An encoder made before the change checks again before loading torch for a large batch.
    with pytest.raises(KnownError, match="SHA-256"):
        running.embed_texts(["a long paragraph about gardening. " * 30] * 3)
    assert not running.full_loaded


HEAVY = {"torch", "sentence_transformers", "transformers", "open_clip", "onnxruntime"}
LAZY = {"rawpy", "cv2", "pypdfium2", "lxml", "docx", "pptx", "odf", "faster_whisper", "av"}


def test_cli_search_of_notes_never_imports_torch(
    tiny_model_files: tuple[Path, Path], minilm: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    home, folder = tmp_path / "home", tmp_path / "things"
    for i in range(6):
        save_scene(folder / f"img{i}.jpg", seed=i)
    for i, words in enumerate(DOCUMENTS):
        (folder / f"note{i}.md").write_text(f"# Note {i}\n\n{words}\n", "utf-8")
    config, weights = tiny_model_files
    run_cli(home, "models", "import", "--arch", ARCH, "--config", str(config), str(weights))
    run_cli(home, "add", str(folder))
    run_cli(home, "index")

    query = ("search", "puppy at the seaside", "--json", "--all", "-k", "20")
    found, modules = output_and_modules(run_cli(home, *query))
    assert not (HEAVY | LAZY) & modules, (HEAVY | LAZY) & modules
    notes = [h for h in found["results"] if h["kind"] == "document"]
    assert Path(notes[0]["path"]).name == "note4.md"
    assert {Path(h["path"]).suffix for h in found["results"]} == {".md", ".jpg"}

    # The same query through sentence-transformers (torch) finds the same, scored alike.
    with Engine(home, writer=False, text_loader=lambda: minilm) as engine:
        reference = engine.search("puppy at the seaside", k=20, kinds=("document",))
    assert [str(h.path) for h in reference] == [h["path"] for h in notes]
    for ours, theirs in zip(notes, reference, strict=True):
        assert ours["score"] == pytest.approx(theirs.score, abs=1e-4)
