"""Indexing speed against a naive loop and an rclip-style pipeline, in the same run.

On camera-sized JPEGs (4000×3000, generated photo-like scenes) it races, round after round:
a naive loop (PIL open, preprocess, fp32 encode one at a time, insert), Snapfind's indexer at
its default precision (through the real Engine), and an emulation of rclip's pipeline (ONNX
Runtime fp32, pictures read in threads three batches ahead). On small JPEGs (640×480) it puts
Snapfind's end-to-end rate beside the image tower's own rate on already-prepared tensors. It
checks every fast path's fidelity and Snapfind's vectors against the naive fp32 full-decode
ones, and prints a Markdown table (JSON to ``--out``).

    .venv/bin/python bench/bench_speed.py --workdir /tmp/bench-work
    .venv/bin/python bench/bench_speed.py --folder ~/Pictures/2019 --workdir /tmp/bench-work
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401
import numpy as np
import torch
from engine_probes import run_index
from library_gen import generate_images
from measure import CpuClock, machine_info, peak_rss_mb
from model_setup import TINY, VIT_RANDOM, prepare_model
from pipelines import best_model_only, naive_loop, rclip_session, rclip_style
from report import markdown_table, write_json

from desktop_app.core.encoders.clip import OpenClipEncoder
from desktop_app.core.encoders.precision import compare
from desktop_app.core.encoders.towers import export_fp32
from desktop_app.core.engine import Engine
from desktop_app.core.indexing.threads import cores
from desktop_app.core.kinds.base import CLIP
from desktop_app.core.kinds.image import decode_image

PICTURES = (".jpg", ".jpeg", ".png", ".heic", ".webp")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="keep data, models and exports here")
    parser.add_argument("--folder", type=Path, help="race on this folder's pictures instead")
    parser.add_argument("--camera", type=int, default=24, help="4000×3000 JPEGs to generate")
    parser.add_argument("--small", type=int, default=96, help="640×480 JPEGs to generate")
    parser.add_argument("--rounds", type=int, default=2, help="race rounds (median reported)")
    parser.add_argument("--model", default=VIT_RANDOM, help=f"{VIT_RANDOM}, {TINY} or a preset")
    parser.add_argument("--precision", default="auto", help="Snapfind's precision setting")
    parser.add_argument("--out", type=Path, default=Path("bench/results/speed.json"))
    return parser


def _files(folder: Path, limit: int | None = None) -> list[Path]:
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PICTURES)
    return found[:limit] if limit else found


def _snapfind(encoder: Any, folder: Path, home: Path) -> tuple[float, dict[str, np.ndarray]]:
    """Images/s of the image phase of a first index, and the stored vector of each file."""
    shutil.rmtree(home, ignore_errors=True)
    engine = Engine(home, clip_loader=lambda: encoder)
    try:
        engine.add_root(folder)
        run = run_index(engine)
        vset = engine.library.searchable_set(CLIP)
        reader = engine.library.reader()
        assert vset is not None
        vectors = {}
        for root in reader.roots():
            for record in reader.files_under(root.id).values():
                stored = reader.vectors_of_file(vset.id, record.id)
                if stored:
                    vectors[record.path] = np.asarray(stored[0], dtype=np.float32)
    finally:
        engine.close()
    return run.counts.get("images", 0) / run.phases["images"], vectors


def _fidelity(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    return compare(reference, other, k=min(10, len(reference) - 1))


def _race(args: argparse.Namespace, ctx: dict[str, Any], folder: Path, tag: str) -> dict:
    """Naive, Snapfind and rclip-style on the same files, interleaved round by round."""
    files = _files(folder)
    rates: dict[str, list[float]] = {"naive": [], "snapfind": [], "rclip-style": []}
    naive_vectors = snap_vectors = None
    for round_no in range(args.rounds):
        print(f"{tag}: round {round_no + 1}/{args.rounds}", flush=True)
        torch.set_num_threads(cores())
        seconds, naive_vectors = naive_loop(
            ctx["ref"]._model, ctx["ref"].preprocess, files, ctx["work"] / "naive.db"
        )
        rates["naive"].append(len(files) / seconds)
        rate, by_path = _snapfind(ctx["fast"], folder, ctx["work"] / f"home-{tag}")
        rates["snapfind"].append(rate)
        snap_vectors = np.stack([by_path[str(p)] for p in files])
        seconds, _ = rclip_style(ctx["rclip"], ctx["input_size"], files, ctx["work"] / "rclip.db")
        rates["rclip-style"].append(len(files) / seconds)
    assert naive_vectors is not None and snap_vectors is not None
    medians = {k: statistics.median(v) for k, v in rates.items()}
    return {
        "files": len(files),
        "rates": rates,
        "median": medians,
        "speedup_vs_naive": medians["snapfind"] / medians["naive"],
        "speedup_vs_rclip_style": medians["snapfind"] / medians["rclip-style"],
        "fidelity_vs_naive_fp32": _fidelity(naive_vectors, snap_vectors),
        "naive_vectors": naive_vectors,
    }


def _draft_only(ref: OpenClipEncoder, files: list[Path], naive: np.ndarray) -> dict[str, float]:
    """fp32 with draft decoding against fp32 full decoding: the effect of drafting alone."""
    drafted = [
        ref.prepare_image(decode_image(p.read_bytes(), draft_size=ref.draft_size)[0]) for p in files
    ]
    vectors = np.concatenate(
        [ref.embed_prepared(drafted[i : i + 16]) for i in range(0, len(drafted), 16)]
    )
    return _fidelity(naive, vectors)


def _prepared(encoder: OpenClipEncoder, files: list[Path]) -> list[torch.Tensor]:
    return [
        encoder.prepare_image(decode_image(p.read_bytes(), draft_size=encoder.draft_size)[0])
        for p in files
    ]


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    machine = machine_info()
    clock = CpuClock.now()
    choice = prepare_model(args.model, workdir / "models", workdir / "home-models", None)
    spec = choice.spec
    work = workdir / "speed"
    work.mkdir(parents=True, exist_ok=True)
    small_dir = workdir / f"small-{args.small}-640x480-seed0"
    if args.folder:
        cam_dir = args.folder
        small: list[Path] = []
    else:
        cam_dir = workdir / f"camera-{args.camera}-4000x3000-seed0"
        generate_images(cam_dir, args.camera, (4000, 3000), 0)
        generate_images(small_dir, args.small, (640, 480), 0)
        small = _files(small_dir)
    camera = _files(cam_dir)
    cache = work / "fast"
    ref = OpenClipEncoder(spec, precision="fp32")
    rss = {"reference_loaded": peak_rss_mb()}

    # Every path: its fidelity check (first use) and the tower's own rate on prepared inputs.
    probe = small or camera
    prepared = _prepared(ref, probe[:64])
    paths: dict[str, Any] = {"fp32": {"model_only": best_model_only(ref, prepared)}}
    for name in ("bf16", "onnx-int8"):
        start = time.perf_counter()
        encoder = OpenClipEncoder(spec, precision=name, cache_dir=cache)
        state = encoder.resolve_precision()
        paths[name] = {
            "first_use_s": time.perf_counter() - start,
            "active": state.active,
            "report": state.reports[-1].__dict__ if state.reports else None,
            "model_only": best_model_only(encoder, prepared),
        }
        del encoder
    fast = OpenClipEncoder(spec, precision=args.precision, cache_dir=cache)
    state = fast.resolve_precision()
    rss["paths_checked"] = peak_rss_mb()

    onnx_fp32 = work / f"rclip-visual-{args.model}.onnx"
    if not onnx_fp32.exists():
        export_fp32(ref._model.visual, prepared[0].unsqueeze(0), onnx_fp32)
    ctx = {
        "ref": ref,
        "fast": fast,
        "rclip": rclip_session(onnx_fp32),
        "input_size": ref.input_size,
        "work": work,
    }
    results: dict[str, Any] = {"camera": _race(args, ctx, cam_dir, "camera")}
    results["camera"]["draft_only_fidelity"] = _draft_only(
        ref, camera, results["camera"].pop("naive_vectors")
    )
    rss["camera_race"] = peak_rss_mb()
    if small:
        small_prepared = _prepared(fast, small)
        ceiling = [best_model_only(fast, small_prepared)["best"]]
        e2e = []
        for _ in range(args.rounds):
            e2e.append(_snapfind(fast, small_dir, work / "home-small")[0])
            ceiling.append(best_model_only(fast, small_prepared)["best"])
        results["small"] = {
            "files": len(small),
            "end_to_end": statistics.median(e2e),
            "model_only": statistics.median(ceiling),
            "all_end_to_end": e2e,
            "all_model_only": ceiling,
        }
        results["small"]["ratio"] = results["small"]["end_to_end"] / results["small"]["model_only"]
    rss["end"] = peak_rss_mb()
    machine["other_load_during_run"] = clock.other_load(CpuClock.now(), machine["cores"])
    return {
        "machine": machine,
        "config": {
            "model": args.model,
            "model_label": choice.label,
            "precision_setting": args.precision,
            "precision_active": state.active,
            "folder": str(args.folder) if args.folder else None,
            "rounds": args.rounds,
            "argv": sys.argv[1:],
        },
        "paths": paths,
        **results,
        "peak_rss_mb": rss,
    }


def report(r: dict[str, Any]) -> str:
    m, c, cam = r["machine"], r["config"], r["camera"]
    out = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['cpu_flags'])}), torch "
        f"{m['torch']}; model {c['model_label']}; Snapfind precision {c['precision_setting']} "
        f"→ {c['precision_active']}; {c['rounds']} rounds, medians",
        f"Load from other processes: {100 * m['other_load_during_run']:.0f}% of the machine"
        + (" — WARNING: timings are disturbed" if m["other_load_during_run"] > 0.1 else ""),
        "",
    ]
    rows = []
    for name, p in r["paths"].items():
        rep = p.get("report") or {}
        verdict = "reference" if name == "fp32" else ("used" if p["active"] == name else "refused")
        rows.append(
            (
                name,
                " / ".join(f"{v:.1f}" for k, v in p["model_only"].items() if k != "best"),
                verdict + (f" ({rep['reason']})" if rep.get("reason") else ""),
                f"{rep['mean_cosine']:.5f} / {rep['min_cosine']:.5f}"
                if rep.get("mean_cosine")
                else "",
                f"{100 * rep['relative_error']:.1f}%" if rep.get("relative_error") else "",
                f"{100 * rep['top_k_overlap']:.0f}%" if rep.get("top_k_overlap") else "",
                f"{p['first_use_s']:.1f} s" if "first_use_s" in p else "",
            )
        )
    out += [
        markdown_table(
            (
                "image tower",
                "model-only img/s, 1 / 2 threads",
                "check",
                "cosine mean / min",
                "rel. error",
                "top-10 kept",
                "first use",
            ),
            rows,
        ),
        "",
    ]
    med = cam["median"]
    fid, draft = cam["fidelity_vs_naive_fp32"], cam["draft_only_fidelity"]
    rows = [
        (f"naive loop, {cam['files']} camera JPEGs", f"{med['naive']:.2f} img/s", ""),
        ("rclip-style (emulated, ONNX fp32)", f"{med['rclip-style']:.2f} img/s", ""),
        (
            "Snapfind (draft decode + default precision)",
            f"{med['snapfind']:.2f} img/s",
            f"{cam['speedup_vs_naive']:.2f}× naive, "
            f"{cam['speedup_vs_rclip_style']:.2f}× rclip-style",
        ),
        (
            "Snapfind vs naive fp32 vectors",
            f"cos min {fid['min_cosine']:.5f}, mean {fid['mean_cosine']:.5f}",
            f"rel. error {100 * fid['relative_error']:.1f}% "
            f"(max {100 * fid['max_relative_error']:.1f}%), "
            f"top-10 kept {100 * fid['top_k_overlap']:.0f}%",
        ),
        (
            "draft decode alone (fp32) vs full decode",
            f"cos min {draft['min_cosine']:.5f}, mean {draft['mean_cosine']:.5f}",
            f"rel. error {100 * draft['relative_error']:.1f}% "
            f"(max {100 * draft['max_relative_error']:.1f}%)",
        ),
    ]
    if "small" in r:
        s = r["small"]
        rows.append(
            (
                f"{s['files']} small JPEGs (640×480): end-to-end / model-only",
                f"{s['end_to_end']:.1f} / {s['model_only']:.1f} img/s",
                f"{100 * s['ratio']:.0f}%",
            )
        )
    rss = r["peak_rss_mb"]
    rows.append(
        (
            "peak RSS",
            f"{rss['end']:.0f} MB",
            f"reference model loaded: {rss['reference_loaded']:.0f} MB",
        )
    )
    out.append(markdown_table(("measure", "value", "note"), rows))
    return "\n".join(out)


def main() -> int:
    args = _parser().parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="snapfind-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = run(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(results))
    write_json(results, args.out)
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
