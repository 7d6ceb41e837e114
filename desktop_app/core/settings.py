"""The person's choices, stored as JSON in the data folder and written atomically."""

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from desktop_app.core.encoders.catalog import DEFAULT_PRESET


@dataclass
class Settings:
    clip_model: str = DEFAULT_PRESET  # a preset name or an imported model's name
    exclude: list[str] = field(default_factory=list)  # glob patterns on names or full paths
    include_hidden: bool = False
    threads: int = 0  # 0: all cores, shared with decoding as measured (core/threads.py)
    precision: str = "auto"  # how the image model runs: auto, fp32, bf16, onnx-int8
    speech_model: str = "tiny.en"  # the bundled Whisper, a downloaded or an imported one
    read_text_in_pictures: bool = True  # OCR: pictures found by their words; slower indexing

    @classmethod
    def load(cls, path: Path) -> "Settings":
        try:
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), "utf-8")
        os.replace(tmp, path)
