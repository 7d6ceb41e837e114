"""Ways to run a CLIP image tower: fp32 (the reference), bf16 weights, ONNX Runtime int8.

Each *tower* maps a batch of prepared pixels (float32, N×3×H×W) to unnormalised float32
features, exactly as ``model.visual`` does, so the encoder can swap one for another. The int8
tower is exported locally from whatever weights are loaded (no download, works for imported
models) and cached in the data folder under a key made of the weights file's identity, so a new
or replaced weights file gets a fresh export and an unchanged one is reused at the next start.
"""

import copy
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

FP32, BF16, ONNX_INT8 = "fp32", "bf16", "onnx-int8"
# Bump when the export or quantisation recipe changes, so old cached exports are not reused.
EXPORT_RECIPE = "int8-dynamic-per-channel-v2"


class Tower(Protocol):
    """A batch of prepared pixels in, unnormalised features out (float32 numpy)."""

    def __call__(self, pixels: torch.Tensor) -> np.ndarray: ...

    def set_threads(self, threads: int) -> None:
        """Use this many CPU threads from the next call on."""
        ...


class TorchTower:
    """The open_clip tower in eval mode, in fp32 or with its weights cast to bf16."""

    def __init__(self, visual: torch.nn.Module, dtype: torch.dtype = torch.float32) -> None:
        self.visual = visual
        self.dtype = dtype

    def __call__(self, pixels: torch.Tensor) -> np.ndarray:
        with torch.no_grad():  # not inference_mode: bf16 there is several times slower
            out = self.visual(pixels.to(self.dtype))
        return np.asarray(out.float().numpy(), dtype=np.float32)

    def set_threads(self, threads: int) -> None:
        torch.set_num_threads(threads)


def bf16_tower(visual: torch.nn.Module) -> TorchTower:
    """A bf16 copy of the tower; the fp32 original is left untouched for the reference."""
    return TorchTower(copy.deepcopy(visual).to(torch.bfloat16), torch.bfloat16)


class OnnxTower:
    """An ONNX Runtime session on an exported tower. Thread count is fixed per session, so a
    change of thread budget opens a new session on the same file."""

    def __init__(self, model_path: Path, threads: int) -> None:
        self.model_path = model_path
        self._threads = 0
        self._session: Any = None
        self.set_threads(threads)

    def set_threads(self, threads: int) -> None:
        threads = max(1, threads)
        if threads == self._threads:
            return
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning workers would take the cores the decode worker and the window need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self._threads = threads

    def __call__(self, pixels: torch.Tensor) -> np.ndarray:
        out = self._session.run(None, {"pixels": pixels.float().numpy()})[0]
        return np.asarray(out, dtype=np.float32)


def onnx_int8_tower(
    visual: torch.nn.Module,
    example: torch.Tensor,
    cache_dir: Path,
    identity: str,
    threads: int,
) -> OnnxTower:
    """The int8 tower from the cache, exported and quantised first if missing or stale."""
    import onnxruntime

    folder = cache_dir / f"onnx-{identity}"
    model_path = folder / "image-int8.onnx"
    manifest_path = folder / "manifest.json"
    manifest = {
        "identity": identity,
        "recipe": EXPORT_RECIPE,
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
    }
    if not _manifest_matches(manifest_path, manifest) or not model_path.is_file():
        export_int8(visual, example, folder, manifest)
    return OnnxTower(model_path, threads)


def _manifest_matches(path: Path, expected: dict[str, str]) -> bool:
    try:
        return bool(json.loads(path.read_text("utf-8")) == expected)
    except (OSError, ValueError):
        return False


def export_int8(
    visual: torch.nn.Module, example: torch.Tensor, folder: Path, manifest: dict[str, str]
) -> None:
    """Export the tower to ONNX (TorchScript exporter, no extra dependency), quantise its
    weights to int8 per output channel, and replace the folder's content atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob("onnx-*"):  # an earlier export of other weights
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        fp32_path = work / "image-fp32.onnx"
        export_fp32(visual, example, fp32_path)
        with _quiet_root_logger():
            quantize_dynamic(
                str(fp32_path),
                str(work / "image-int8.onnx"),
                weight_type=QuantType.QInt8,
                per_channel=True,
            )
        fp32_path.unlink()
        (work / "manifest.json").write_text(json.dumps(manifest), "utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export_fp32(visual: torch.nn.Module, example: torch.Tensor, target: Path) -> None:
    """The tower as an fp32 ONNX graph with a dynamic batch (TorchScript exporter)."""
    # Grad mode on: under no_grad, attention takes a fused op the ONNX exporter lacks.
    with warnings.catch_warnings(), torch.enable_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            _FloatOut(visual),
            (example.float(),),
            str(target),
            dynamo=False,
            input_names=["pixels"],
            output_names=["features"],
            dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
            opset_version=17,
        )


class _FloatOut(torch.nn.Module):
    """Wraps the tower so the exported graph has one named float input and output."""

    def __init__(self, visual: torch.nn.Module) -> None:
        super().__init__()
        self.visual = visual

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.visual(pixels)
        return out


class _quiet_root_logger:
    """onnxruntime's quantiser logs advice to the root logger; the core never writes to the
    terminal, so it is silenced for the duration."""

    def __enter__(self) -> None:
        self._level = logging.root.level
        logging.root.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        logging.root.setLevel(self._level)
