"""The compression report: ``compression.json``, a Markdown table and an accuracy-against-size plot."""

from __future__ import annotations

import os

from tfcnn import _io, viz

HONEST_SPEED = (
    "Unstructured sparsity makes a file smaller only after compression (gzip column) and does not make it faster: "
    "the dense kernels still multiply every zero. The sparse encoding (`*_sparse`, "
    "`Optimize.EXPERIMENTAL_SPARSITY`) shrinks the raw file but runs only without the XNNPACK delegate, which "
    "usually makes it slower (compare the latency column). int8 speed-ups depend on the CPU's integer kernels; latencies are medians of single-image "
    "`invoke()` calls measured in one run."
)


def _kb(n) -> str:
    return f"{n / 1024:,.1f}"


def _ms(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def rows_with_ratios(variants: dict, baseline: str = "float32") -> dict:
    """Add ``ratio``, ``gzip_ratio``, ``delta_accuracy`` (points) and ``speedup`` relative to ``baseline``."""
    base = variants.get(baseline)
    for v in variants.values():
        if base is None:
            break
        v["ratio"] = v["size"] / base["size"]
        v["gzip_ratio"] = v["gzip_size"] / base["gzip_size"]
        v["delta_accuracy"] = 100.0 * (v["accuracy"] - base["accuracy"])
        v["speedup"] = base["latency_ms_1_thread"] / v["latency_ms_1_thread"] if v["latency_ms_1_thread"] else None
    return variants


def markdown(report: dict) -> str:
    """One row per variant: size, gzipped size, ratio to float32, accuracy, Δaccuracy, latency, speed-up."""
    variants = report["variants"]
    threads = next((v["threads"] for v in variants.values()), 1)
    lines = [
        f"# Compression of `{report['model']}` on {report['dataset']}",
        "",
        (f"Keras float accuracy {report['keras_accuracy']:.4f} on {report['test_images']} test images; "
        f"every `.tflite` below was run on all of them with LiteRT."),
        "",
        (f"| variant | size KB | gzip KB | size ratio | gzip ratio | accuracy | Δacc (pts) | agreement "
        f"| latency ms (1 thread) | latency ms ({threads} threads) | speed-up |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, v in variants.items():
        lines.append(
            f"| {name} | {_kb(v['size'])} | {_kb(v['gzip_size'])} | {v.get('ratio', 1):.3f} | "
            f"{v.get('gzip_ratio', 1):.3f} | {v['accuracy']:.4f} | {v.get('delta_accuracy', 0):+.2f} | "
            f"{(v['agreement'] or 0):.4f} | {_ms(v['latency_ms_1_thread'])} | {_ms(v['latency_ms_all_threads'])} | "
            f"{(v.get('speedup') or 0):.2f}× |")
    sparsity = report.get("sparsity") or {}
    for tag, layers in sparsity.items():
        lines += ["", f"Measured kernel sparsity of `{tag}`:", "", "| layer | shape | params | pruned | sparsity |",
                  "| --- | --- | ---: | --- | ---: |"]
        for layer, info in layers.items():
            pruned = "yes" if info.get("pruned", True) else "no"
            lines.append(f"| {layer} | {'×'.join(map(str, info['shape']))} | {info['params']:,} | {pruned} | "
                         f"{info['sparsity']:.3f} |")
    if report.get("skipped"):
        lines += ["", "Skipped:", ""] + [f"- {k}: {v}" for k, v in report["skipped"].items()]
    lines += ["", HONEST_SPEED, ""]
    return "\n".join(lines)


def plot(report: dict):
    """Accuracy against gzipped size, one point per variant (:func:`tfcnn.viz.plot_compression`)."""
    points = [{"name": n, "size": v["gzip_size"] / 1024, "accuracy": v["accuracy"]}
              for n, v in report["variants"].items()]
    title = f"{report['model']} on {report['dataset']}: accuracy against gzipped size"
    return viz.plot_compression(points, size_unit="gzipped KB", title=title)


def write(model_dir: str, report: dict, *, figure: bool = True) -> dict:
    """Write ``compression.json``, ``compression.md`` (and, with ``figure``, ``compression.png``), atomically.

    The pipeline calls it after every variant without the figure, so an
    interrupted run keeps a report of everything finished, and once at the end with it.
    """
    paths = {"json": os.path.join(model_dir, "compression.json"), "md": os.path.join(model_dir, "compression.md"),
             "png": os.path.join(model_dir, "compression.png")}
    _io.write_json(paths["json"], report)
    _io.write_text(paths["md"], markdown(report))
    if figure and report["variants"]:
        viz.save_figure(plot(report), paths["png"])
    return paths
