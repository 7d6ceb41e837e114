"""A tiny, randomly initialised open_clip model of the real CLIP architecture.

It is registered through open_clip's own config mechanism and loaded from a safetensors file by
the app's normal loading code, so tests exercise the real path at a fraction of the cost.
"""

import json
from pathlib import Path

ARCH = "snapfind-test-tiny"
CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def write_tiny_model(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write the config and deterministic random weights; returns (config, weights)."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / f"{ARCH}.json"
    config.write_text(json.dumps(CONFIG), "utf-8")
    open_clip.add_model_config(config)
    torch.manual_seed(seed)
    model = open_clip.create_model(ARCH, pretrained=None)
    weights = folder / f"{ARCH}.safetensors"
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(weights))
    return config, weights
