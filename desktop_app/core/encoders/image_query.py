"""A picture query without torch: the image tower as an fp32 ONNX graph, with open_clip's
preprocessing redone in PIL and numpy.

``snapfind-cli search --image photo.jpg`` would otherwise import torch and load the whole model
(5-6 s, plus the precision check's set-up) to embed one picture. Exported beside the text pack,
once per weights file, and accepted only when, on a fixed sample of generated pictures, this
preprocessing gives open_clip's input (to 1e-5) and the ONNX tower open_clip's features
(cosine ≥ MIN_COSINE). Only the plain transform is reproduced (resize of the short side, centre
crop, scale, normalise); any other keeps picture queries on the full model. Indexing never uses
this path: it runs the full model at the precision the settings chose.
"""

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

IMAGE_FILE = "image-fp32.onnx"
MIN_COSINE = 0.9999
_RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def preprocess(image: Image.Image, recipe: dict[str, Any]) -> np.ndarray:
    """open_clip's Resize(short side) + CenterCrop + ToTensor + Normalize, as float32 CHW."""
    size, crop = int(recipe["size"]), int(recipe["crop"])
    width, height = image.size
    if width <= height:
        new = (size, int(size * height / width))
    else:
        new = (int(size * width / height), size)
    if new != image.size:
        image = image.resize(new, _RESAMPLING[recipe["interpolation"]])
    left = round((new[0] - crop) / 2.0)
    top = round((new[1] - crop) / 2.0)
    image = image.crop((left, top, left + crop, top + crop)).convert("RGB")
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    mean = np.asarray(recipe["mean"], dtype=np.float32)
    std = np.asarray(recipe["std"], dtype=np.float32)
    return np.ascontiguousarray(((pixels - mean) / std).transpose(2, 0, 1))


def recipe_of(transform: Any) -> dict[str, Any] | None:
    """The plain transform's parameters, or None when it has other steps."""
    steps = list(getattr(transform, "transforms", []))
    names = [type(step).__name__ for step in steps]
    if names != ["Resize", "CenterCrop", "MaybeConvertMode", "MaybeToTensor", "Normalize"]:
        return None
    resize, crop, _, _, normalise = steps
    interpolation = getattr(resize.interpolation, "value", str(resize.interpolation))
    size = resize.size if isinstance(resize.size, int) else None
    if size is None or interpolation not in _RESAMPLING or resize.max_size is not None:
        return None
    crop_h, crop_w = crop.size
    if crop_h != crop_w:
        return None
    return {
        "size": size,
        "crop": int(crop_h),
        "interpolation": interpolation,
        "mean": [float(v) for v in normalise.mean],
        "std": [float(v) for v in normalise.std],
    }


def export_image_tower(
    visual: Any, transform: Any, folder: Path, sample: list[Image.Image]
) -> dict[str, Any]:
    """Export and check the image tower into ``folder``; returns the manifest's entry for it
    (``accepted`` false, with a reason, when the path must not be used)."""
    import torch

    from desktop_app.core.encoders.towers import export_fp32

    recipe = recipe_of(transform)
    if recipe is None:
        return {"accepted": False, "reason": "preprocessing other than resize + centre crop"}
    ours = np.stack([preprocess(image, recipe) for image in sample])
    theirs = torch.stack([transform(image) for image in sample])
    if float(np.max(np.abs(ours - theirs.numpy()))) > 1e-5:
        return {"accepted": False, "reason": "preprocessing differs from open_clip's"}
    export_fp32(visual, theirs[:1], folder / IMAGE_FILE)
    with torch.no_grad():
        reference = visual(theirs).float().numpy()
    fast = OnnxImageTower(folder / IMAGE_FILE, recipe).run(ours)
    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    out = fast / np.linalg.norm(fast, axis=1, keepdims=True)
    cosine = float(np.min(np.sum(ref * out, axis=1)))
    if not cosine >= MIN_COSINE:
        (folder / IMAGE_FILE).unlink()
        reason = f"cosine to open_clip's image tower {cosine:.6f} is below {MIN_COSINE}"
        return {"accepted": False, "reason": reason, "min_cosine": cosine}
    return {"accepted": True, "reason": "", "min_cosine": cosine, "recipe": recipe}


class OnnxImageTower:
    """Pictures in, unnormalised features out; the session opens on first use."""

    def __init__(self, model_path: Path, recipe: dict[str, Any], threads: int = 0) -> None:
        self.model_path, self.recipe, self.threads = model_path, recipe, threads
        self._session: Any = None
        self._lock = threading.Lock()

    def run(self, pixels: np.ndarray) -> np.ndarray:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.log_severity_level = 3
                # This session serves one query picture or an index run's first batch, so
                # its set-up is what counts: repacking the weights for faster products costs
                # 0.23 s of a 0.6 s set-up (ViT-B-32-256) and saves 7 ms a picture here; the
                # extended graph rewrites gave no speed on this tower.
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
                options.add_session_config_entry("session.disable_prepacking", "1")
                self._session = ort.InferenceSession(
                    str(self.model_path), options, providers=["CPUExecutionProvider"]
                )
            out = self._session.run(None, {"pixels": pixels})[0]
        return np.asarray(out, dtype=np.float32)

    def __call__(self, images: list[Image.Image]) -> np.ndarray:
        return self.run(np.stack([preprocess(image, self.recipe) for image in images]))
