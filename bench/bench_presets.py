"""Each preset's indexing speed here, beside its published ImageNet zero-shot accuracy.

Weights are random (seed 0) but of each preset's real architecture and input size, so the
compute, and hence the speed, is the real one; nothing is downloaded. For each preset: the
image tower alone in fp32 and at the precision ``auto`` picks (after its fidelity check), and
Snapfind's end-to-end indexing rate on the small generated JPEGs.

    .venv/bin/python bench/bench_presets.py --workdir /tmp/bench-work
"""

import argparse
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401
from bench_speed import _files, _prepared, _snapfind
from library_gen import generate_images
from measure import machine_info
from pipelines import best_model_only
from report import markdown_table, write_json

from desktop_app.core.encoders.catalog import PRESETS, ClipSpec, preset_preprocess
from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.indexing.threads import cores


def _write_random(arch: str, target: str) -> None:
    """In a child process: random weights of ``arch`` as safetensors."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.create_model(arch, pretrained=None)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, target + ".part")
    os.replace(target + ".part", target)


def measure(name: str, workdir: Path, small: list[Path], small_dir: Path) -> dict[str, Any]:
    preset = next(p for p in PRESETS if p.name == name)
    weights = workdir / "models" / f"{preset.arch}-random-seed0.safetensors"
    if not weights.exists():
        weights.parent.mkdir(parents=True, exist_ok=True)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply(_write_random, (preset.arch, str(weights)))
    spec = ClipSpec(
        f"open_clip:{preset.arch}/random-seed0",
        preset.arch,
        weights,
        preset_preprocess(preset),
        f"{preset.name} (random init)",
    )
    cache = workdir / "speed" / "fast"
    reference = OpenClipEncoder(spec, precision="fp32")
    prepared = _prepared(reference, small[:48])
    fp32_rate = best_model_only(reference, prepared)["best"]
    del reference
    encoder = OpenClipEncoder(spec, precision="auto", cache_dir=cache)
    state = encoder.resolve_precision()
    fast_rate = best_model_only(encoder, prepared)["best"]
    end_to_end, _ = _snapfind(encoder, small_dir, workdir / "speed" / f"home-{preset.arch}")
    return {
        "preset": name,
        "input_size": encoder.input_size,
        "imagenet_zero_shot": preset.imagenet_zero_shot,
        "model_only_fp32": fp32_rate,
        "active": state.active,
        "model_only_active": fast_rate,
        "end_to_end": end_to_end,
        "checks": [r.summary() for r in state.reports],
    }


def rows_line(r: dict[str, Any]) -> str:
    return (
        f"fp32 {r['model_only_fp32']:.1f}, {r['active']} {r['model_only_active']:.1f}, "
        f"end-to-end {r['end_to_end']:.1f} images/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--small", type=int, default=96, help="640×480 JPEGs to index")
    parser.add_argument("--presets", nargs="*", default=[p.name for p in PRESETS])
    parser.add_argument("--out", type=Path, default=Path("bench/results/presets.json"))
    args = parser.parse_args()
    small_dir = args.workdir / f"small-{args.small}-640x480-seed0"
    generate_images(small_dir, args.small, (640, 480), 0)
    small = _files(small_dir)
    rows, results = [], []
    for name in args.presets:
        print(f"preset {name}", flush=True)
        try:
            r = measure(name, args.workdir, small, small_dir)
        except Exception as err:  # e.g. a text tower whose config lives on the hub
            print(f"  {name}: cannot measure offline ({type(err).__name__})", flush=True)
            results.append({"preset": name, "error": f"{type(err).__name__}: {err}"})
            continue
        results.append(r)
        print(f"  {rows_line(r)}", flush=True)
        rows.append(
            (
                r["preset"],
                f"{r['imagenet_zero_shot']:.1f}%",
                str(r["input_size"]),
                f"{r['model_only_fp32']:.1f}",
                f"{r['active']}: {r['model_only_active']:.1f}",
                f"{r['end_to_end']:.1f}",
            )
        )
    header = (
        "preset",
        "ImageNet zero-shot (published)",
        "input px",
        "tower fp32 img/s",
        "tower at auto img/s",
        "end-to-end img/s (640×480)",
    )
    print()
    print(f"{machine_info()['cpu']}, {cores()} cores")
    print(markdown_table(header, rows))
    write_json({"machine": machine_info(), "presets": results}, args.out)
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
