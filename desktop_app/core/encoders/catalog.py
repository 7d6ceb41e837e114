"""Which CLIP models the app offers and where their weights come from.

A model is a *preset* (an open_clip architecture plus a pretrained tag, downloaded through
huggingface_hub into the standard HF cache) or an *imported* local weights file for any open_clip
architecture (copied into the data folder, identified by its SHA-256). Custom architecture
configs placed in ``<home>/models/configs`` are registered with open_clip before loading.

Some architectures (the multilingual ``xlm-roberta-base-ViT-B-32``) take their text tower from a
Hugging Face transformers model: its config and tokenizer files (not its weights, which the CLIP
checkpoint carries) are fetched and cached like the weights, or imported from a local folder,
and the tower is always built from those local files, so loading never needs the network.
Nothing here ever unpickles arbitrary objects: safetensors, or ``torch.load(weights_only=True)``.
"""

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.errors import CancelledError, KnownError, ModelNotAvailableError

# A transformers text tower needs its config and its tokenizer; never its weights.
TEXT_TOWER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "spiece.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
)
_TOKENIZER_FILES = frozenset(TEXT_TOWER_FILES[1:]) - {"tokenizer_config.json"}
_HF_DEFAULT_FILE = "open_clip_pytorch_model.bin"
_HF_SAFE_FILE = "open_clip_model.safetensors"


@dataclass(frozen=True)
class Preset:
    """A downloadable model, with the figures a person needs to choose one."""

    name: str
    arch: str
    tag: str
    summary: str
    download_mb: int
    imagenet_zero_shot: float  # published top-1, %

    @property
    def model_id(self) -> str:
        return f"open_clip:{self.arch}/{self.tag}"


PRESETS: tuple[Preset, ...] = (
    Preset(
        "ViT-B-32",
        "ViT-B-32",
        "laion2b_s34b_b79k",
        "Default. Good all-round accuracy, fast on a laptop CPU.",
        605,
        66.6,
    ),
    Preset(
        "ViT-B-32-256",
        "ViT-B-32-256",
        "datacomp_s34b_b86k",
        "DataComp training at 256 px: more accurate for a little more compute.",
        605,
        72.8,
    ),
    Preset(
        "MobileCLIP2-S0",
        "MobileCLIP2-S0",
        "dfndr2b",
        "Much lighter image tower: fastest indexing.",
        300,
        71.5,
    ),
    Preset(
        "ViT-B-16",
        "ViT-B-16",
        "laion2b_s34b_b88k",
        "Finer 16 px patches: more accurate, about 4x slower indexing.",
        599,
        70.2,
    ),
    Preset(
        "xlm-roberta-base-ViT-B-32",
        "xlm-roberta-base-ViT-B-32",
        "laion5b_s13b_b90k",
        "Multilingual queries (100+ languages).",
        1470,
        62.4,
    ),
)
DEFAULT_PRESET = PRESETS[0].name
_PREPROCESS_KEYS = {
    "mean": "image_mean",
    "std": "image_std",
    "interpolation": "image_interpolation",
    "resize_mode": "image_resize_mode",
}


@dataclass(frozen=True)
class ClipSpec:
    """Everything needed to build a CLIP encoder: architecture, weights file and preprocessing."""

    model_id: str
    arch: str
    weights: Path
    preprocess: dict[str, Any]
    label: str
    text_tower: Path | None = None  # local config + tokenizer of a transformers text tower


def preset(name: str) -> Preset:
    for p in PRESETS:
        if p.name == name:
            return p
    raise KnownError(
        f"Unknown model {name!r}. Choose one of: {', '.join(p.name for p in PRESETS)}, "
        "or import a weights file with `snapfind-cli models import --arch ARCH FILE`."
    )


def _preprocess_for(arch: str, tag: str) -> dict[str, Any]:
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, tag)
    return {_PREPROCESS_KEYS[k]: v for k, v in cfg.items() if k in _PREPROCESS_KEYS}


def preset_preprocess(p: Preset) -> dict[str, Any]:
    """The preprocessing (mean, std, interpolation, resize mode) the preset was trained with."""
    return _preprocess_for(p.arch, p.tag)


def _hf_location(p: Preset) -> tuple[str, list[str]]:
    import open_clip

    hub = open_clip.get_pretrained_cfg(p.arch, p.tag).get("hf_hub", "")
    repo, filename = hub.rstrip("/"), ""
    if not hub.endswith("/"):
        repo, filename = hub.rsplit("/", 1)
    if not filename:
        return repo, [_HF_SAFE_FILE, _HF_DEFAULT_FILE]
    if filename.endswith((".bin", ".pth", ".pt")):
        return repo, [filename.rsplit(".", 1)[0] + ".safetensors", filename]
    return repo, [filename]


def cached_weights(p: Preset) -> Path | None:
    """The preset's weights file in the HF cache, without touching the network."""
    from huggingface_hub import try_to_load_from_cache

    repo, names = _hf_location(p)
    for name in names:
        found = try_to_load_from_cache(repo_id=repo, filename=name)
        if isinstance(found, str):
            return Path(found)
    return None


# Called with (bytes done, bytes in all or None); raising CancelledError stops the download.
DownloadProgress = Callable[[int, int | None], None]


def _progress_bar(report: DownloadProgress) -> type:
    """A tqdm class that forwards huggingface_hub's byte counts to ``report``."""
    from tqdm.auto import tqdm

    class Forwarding(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # no terminal output from the core
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            self.n += n or 0
            report(int(self.n), int(self.total) if self.total else None)
            return None

    return Forwarding


def download(p: Preset, on_progress: DownloadProgress | None = None) -> Path:
    """Fetch a preset's weights into the HF cache.

    Without ``on_progress`` huggingface_hub draws its own progress bar (the CLI); with it, the
    byte counts go to the callback instead (the GUI), which may cancel by raising.
    """
    from huggingface_hub import hf_hub_download

    bar = _progress_bar(on_progress) if on_progress else None
    _download_text_tower(p, bar)
    found = cached_weights(p)
    if found:
        return found
    repo, names = _hf_location(p)
    last: Exception | None = None
    for name in names:
        try:
            return Path(hf_hub_download(repo_id=repo, filename=name, tqdm_class=bar))
        except CancelledError:
            raise
        except Exception as err:  # any hub or network failure: try the next file name
            last = err
    raise ModelNotAvailableError(
        f"Could not download the {p.name} model from huggingface.co/{repo} ({last}). "
        "Check the network connection, or copy the weights file from another machine and run "
        f"`snapfind-cli models import --arch {p.arch} FILE`."
    )


def text_tower_repo(arch: str) -> str | None:
    """The Hugging Face repository of the architecture's transformers text tower, if any."""
    import open_clip

    config = open_clip.get_model_config(arch) or {}
    repo = config.get("text_cfg", {}).get("hf_model_name")
    return str(repo) if repo else None


def is_text_tower(folder: Path) -> bool:
    """Whether ``folder`` holds a transformers config and a tokenizer."""
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    return "config.json" in names and bool(names & _TOKENIZER_FILES)


def cached_text_tower(repo: str) -> Path | None:
    """The text tower's files in the HF cache, without touching the network."""
    from huggingface_hub import snapshot_download

    try:
        folder = Path(
            snapshot_download(repo, allow_patterns=list(TEXT_TOWER_FILES), local_files_only=True)
        )
    except Exception:  # not cached (huggingface_hub raises several kinds): nothing to use
        return None
    return folder if is_text_tower(folder) else None


def _download_text_tower(p: Preset, bar: type | None) -> None:
    from huggingface_hub import snapshot_download

    repo = text_tower_repo(p.arch)
    if repo is None or cached_text_tower(repo) is not None:
        return
    try:
        snapshot_download(repo, allow_patterns=list(TEXT_TOWER_FILES), tqdm_class=bar)
    except CancelledError:
        raise
    except Exception as err:  # any hub or network failure
        raise ModelNotAvailableError(
            f"Could not download the tokenizer of the {p.name} model from huggingface.co/{repo}"
            f" ({err}). Check the network connection, or copy that repository's config.json and "
            "tokenizer files into a folder and run "
            f"`snapfind-cli models import --arch {p.arch} --text-tower FOLDER FILE`."
        ) from None


def _missing_text_tower(arch: str, repo: str) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"The {arch} model needs the tokenizer of huggingface.co/{repo}, which is not on this "
        "computer yet. Download the model with `snapfind-cli models download`, or, without a "
        "network, copy that repository's config.json and tokenizer files into a folder and run "
        f"`snapfind-cli models import --arch {arch} --text-tower FOLDER FILE`."
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ModelCatalog:
    """Presets plus the weights files imported into this data folder."""

    def __init__(self, home: Path) -> None:
        self.models_dir = home / "models"
        self.imported_dir = self.models_dir / "imported"
        self.configs_dir = self.models_dir / "configs"

    def register_configs(self) -> None:
        """Make custom architecture configs in ``models/configs`` known to open_clip."""
        import open_clip

        if self.configs_dir.is_dir() and any(self.configs_dir.glob("*.json")):
            open_clip.add_model_config(self.configs_dir)

    def imported(self) -> list[dict[str, Any]]:
        if not self.imported_dir.is_dir():
            return []
        out = []
        for manifest in sorted(self.imported_dir.glob("*.json")):
            try:
                out.append(json.loads(manifest.read_text("utf-8")))
            except (OSError, ValueError):
                continue
        return out

    def import_file(
        self,
        arch: str,
        source: Path,
        config: Path | None = None,
        text_tower: Path | None = None,
    ) -> str:
        """Copy a weights file (and optionally its architecture config, and the config and
        tokenizer of a transformers text tower) in; returns its name."""
        import open_clip

        if not source.is_file():
            raise KnownError(f"No such weights file: {source}")
        if source.suffix not in (".safetensors", ".bin", ".pt", ".pth"):
            raise KnownError(
                f"{source.name}: expected a .safetensors, .bin, .pt or .pth weights file."
            )
        if config is not None:
            self.configs_dir.mkdir(parents=True, exist_ok=True)
            try:
                json.loads(config.read_text("utf-8"))
            except (OSError, ValueError) as err:
                raise KnownError(f"{config}: not a readable JSON model config ({err}).") from None
            shutil.copyfile(config, self.configs_dir / f"{arch}.json")
        self.register_configs()
        if arch not in open_clip.list_models():
            raise KnownError(
                f"Unknown architecture {arch!r}. Use one of `open_clip.list_models()` "
                "(e.g. ViT-B-32), or pass its JSON config with --config."
            )
        if text_tower is not None and not is_text_tower(text_tower):
            raise KnownError(
                f"{text_tower} does not hold a text tower: expected config.json and tokenizer "
                f"files (one of {', '.join(sorted(_TOKENIZER_FILES))})."
            )
        repo = text_tower_repo(arch)
        if repo is not None and text_tower is None and cached_text_tower(repo) is None:
            raise _missing_text_tower(arch, repo)
        digest = sha256_file(source)
        name = f"{arch}-{digest[:12]}"
        self.imported_dir.mkdir(parents=True, exist_ok=True)
        if text_tower is not None:
            _copy_text_tower(text_tower, self.imported_dir / f"{name}-text")
        target = self.imported_dir / f"{name}{source.suffix}"
        if not target.exists():
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
        manifest = {
            "name": name,
            "arch": arch,
            "file": target.name,
            "sha256": digest,
            "source": str(source),
        }
        if text_tower is not None:
            manifest["text_tower"] = f"{name}-text"
        (self.imported_dir / f"{name}.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        return name

    def spec(self, name: str) -> ClipSpec:
        """Resolve a model name (preset or imported) to a loadable spec, offline."""
        for item in self.imported():
            if item["name"] == name:
                self.register_configs()
                presets_for_arch = [p for p in PRESETS if p.arch == item["arch"]]
                prep = (
                    _preprocess_for(presets_for_arch[0].arch, presets_for_arch[0].tag)
                    if len(presets_for_arch) == 1
                    else {}
                )
                tower = item.get("text_tower")
                return ClipSpec(
                    model_id=f"open_clip:{item['arch']}/sha256-{item['sha256'][:16]}",
                    arch=item["arch"],
                    weights=self.imported_dir / item["file"],
                    preprocess=prep,
                    label=f"{item['arch']} (imported {item['file']})",
                    text_tower=(
                        self.imported_dir / tower if tower else _text_tower_for(item["arch"])
                    ),
                )
        p = preset(name)
        weights = cached_weights(p)
        if weights is None:
            raise ModelNotAvailableError(
                f"The {p.name} model is not on this computer yet. Download it (about "
                f"{p.download_mb} MB) with `snapfind-cli models download`, or, without a "
                "network, copy its weights file here and run "
                f"`snapfind-cli models import --arch {p.arch} FILE`."
            )
        prep = _preprocess_for(p.arch, p.tag)
        return ClipSpec(p.model_id, p.arch, weights, prep, p.name, _text_tower_for(p.arch))


def _text_tower_for(arch: str) -> Path | None:
    """The cached text tower an architecture needs (None if it needs none); raises if missing."""
    repo = text_tower_repo(arch)
    if repo is None:
        return None
    folder = cached_text_tower(repo)
    if folder is None:
        raise _missing_text_tower(arch, repo)
    return folder


def _copy_text_tower(source: Path, target: Path) -> None:
    """Copy the config and tokenizer files (nothing else) into ``target``, atomically."""
    tmp = target.with_name(target.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in TEXT_TOWER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, tmp / name)
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)


def text_tower_overrides(spec: ClipSpec) -> dict[str, Any]:
    """Arguments for open_clip's model factory that build a transformers text tower from the
    spec's local files (no download: its weights come with the CLIP checkpoint)."""
    if spec.text_tower is None:
        return {}
    import open_clip

    text_cfg = dict(open_clip.get_model_config(spec.arch)["text_cfg"])
    text_cfg.update(
        hf_model_name=str(spec.text_tower),
        hf_tokenizer_name=str(spec.text_tower),
        hf_model_pretrained=False,
    )
    return {"text_cfg": text_cfg}


def tokenizer_for(spec: ClipSpec) -> Any:
    """open_clip's tokenizer for the spec, reading a transformers tokenizer from local files."""
    import open_clip

    if spec.text_tower is None:
        return open_clip.get_tokenizer(spec.arch)
    text_cfg = open_clip.get_model_config(spec.arch)["text_cfg"]
    return open_clip.tokenizer.HFTokenizer(
        str(spec.text_tower),
        context_length=text_cfg.get("context_length", 77),
        tokenizer_mode=text_cfg.get("tokenizer_mode"),
        **text_cfg.get("tokenizer_kwargs", {}),
    )
