"""Benchmark results as a person reads them (Markdown tables) and as a program does (JSON).

Kept apart from the measuring so the wording and layout of the report can change without
touching what is measured, and the JSON keys stay one plain dict built by the entry point.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    fmt = "| " + " | ".join(f"{{:{w}}}" for w in widths) + " |"
    lines = [fmt.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines.extend(fmt.format(*row) for row in rows)
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    m, c, ix = results["machine"], results["config"], results["index"]
    load, rescan = results["model_load"], results["rescan"]
    q, st = results["queries"], results["stages"]
    out = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['cpu_flags']) or 'no AVX-512'}), "
        f"{m['memory_gb']} GB; {m['os']}; Python {m['python']}, torch {m['torch']} "
        f"({m['torch_threads']} threads), open_clip {m['open_clip']}; {m['gpu']}",
        f"Load from other processes: {100 * m['other_load_during_index']:.0f}% of the machine "
        f"during the first index, {100 * m['other_load_during_run']:.0f}% over the whole run"
        + (" — WARNING: timings are disturbed" if m["other_load_during_run"] > 0.1 else ""),
        f"Model: {c['model_label']} — {c['model_note']}",
        f"Library: {c['images']} images ({c['image_mb']:.0f} MB, {c['image_sizes']}), "
        f"{c['documents']} documents ({c['document_kb']:.0f} KB); source: {c['source']}",
        "",
    ]
    images, docs = ix["counts"].get("images", 0), ix["counts"].get("documents", 0)
    img_s, doc_s = ix["phases"].get("images", 0.0), ix["phases"].get("documents", 0.0)
    img_rate, doc_rate = ix["images_per_s"] or 0.0, ix["documents_per_s"] or 0.0
    rows = [
        ("import torch + open_clip", f"{load['imports_s']:.2f} s"),
        ("CLIP model load (cold)", f"{load['clip_s']:.2f} s"),
        ("MiniLM document model load (cold)", f"{load['text_s']:.2f} s"),
        ("first full index, wall (models loaded)", f"{ix['wall_s']:.1f} s"),
        ("  scan", f"{ix['phases'].get('scanning', 0.0):.2f} s"),
        (
            "  documents (read + chunk + embed + commit)",
            f"{doc_s:.2f} s → {doc_rate:.1f} documents/s ({c['document_chunks']} chunks)",
        ),
        ("  images (read + decode + embed + commit)", f"{img_s:.1f} s → {img_rate:.1f} images/s"),
        (
            "  time inside the CLIP image model",
            f"{ix['encoder_s']:.1f} s "
            f"({100 * ix['encoder_s'] / img_s if img_s else 0:.0f}% of the image phase)",
        ),
        ("  overall", f"{(images + docs) / ix['wall_s']:.1f} files/s; {ix['failed']} failed"),
        (
            f"re-scan, unchanged library (median of {rescan['repeats']})",
            f"{rescan['median_s'] * 1000:.0f} ms",
        ),
        (
            "peak RSS after model load / index / all",
            f"{results['rss_mb']['after_load']:.0f} / "
            f"{results['rss_mb']['after_index']:.0f} / {results['rss_mb']['end']:.0f} MB",
        ),
        (
            "current RSS after model load / index / all",
            f"{results['current_rss_mb']['after_load']:.0f} / "
            f"{results['current_rss_mb']['after_index']:.0f} / "
            f"{results['current_rss_mb']['end']:.0f} MB",
        ),
    ]
    out += [markdown_table(("measure", "value"), rows), ""]
    qrows = [
        (name, f"{v['first_ms']:.1f}", f"{v['p50_ms']:.1f}", f"{v['p95_ms']:.1f}", str(v["n"]))
        for name, v in q.items()
    ]
    out += [markdown_table(("query (k=20)", "first ms", "p50 ms", "p95 ms", "n"), qrows), ""]
    srows = [
        ("decode_image, full size (as the indexer)", f"{st['decode_ms']:.1f}"),
        ("decode_image(draft_size=224) (for comparison)", f"{st['decode_draft224_ms']:.1f}"),
        ("CLIP prepare_image (resize, crop, normalise)", f"{st['preprocess_ms']:.1f}"),
        (f"model forward (embed_prepared, batch {st['batch']})", f"{st['forward_ms']:.1f}"),
        ("decode worker (decode + prepare)", f"{st['worker_ms']:.1f}"),
        ("model thread (forward)", f"{st['model_thread_ms']:.1f}"),
    ]
    out.append(
        markdown_table(
            (
                f"image path, ms per image ({st['sample']} images, "
                f"{st['mean_megapixels']:.1f} MP avg)",
                "ms",
            ),
            srows,
        )
    )
    out.append(
        f"From these: {st['serial_images_per_s']:.1f} images/s one step after another, "
        f"{st['overlap_images_per_s']:.1f} images/s if decode and model overlapped perfectly "
        "(optimistic: the forward above had every core to itself)."
    )
    return "\n".join(out)


def write_json(results: dict[str, Any], path: Path) -> None:
    """The results as indented JSON (anything not JSON-native as its ``str``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str), "utf-8")
