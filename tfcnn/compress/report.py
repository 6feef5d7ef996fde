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

CHANNELS_NOTE = (
    "Channel pruning removes whole filters and rebuilds a thinner model, so MACs, parameters and size drop for "
    "real (unlike the zeros of magnitude pruning), and so does latency where compute dominates it; a model as small "
    "as LeNet spends most of an `invoke()` in fixed overhead. The speed-up compares each thin file with the "
    "unpruned file of the same conversion. A thin or student file's agreement is with its own Keras model (the "
    "conversion's check); its accuracy is the comparison with the float model."
)


def _kb(n) -> str:
    return f"{n / 1024:,.1f}"


def _ms(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def _speedup(base: dict, row: dict, key: str = "latency_ms_1_thread"):
    return base[key] / row[key] if base.get(key) and row.get(key) else None


def unpruned_name(name: str, row: dict) -> str | None:
    """The unpruned file a channel-pruned row compares with: ``channels50_int8`` -> ``int8``."""
    if not (row.get("widths") or row.get("student")) or "_" not in name:
        return None
    return name.rsplit("_", 1)[1]


def rows_with_ratios(variants: dict, baseline: str = "float32") -> dict:
    """Add ``ratio``, ``gzip_ratio``, ``delta_accuracy`` (points) and ``speedup`` relative to ``baseline``.

    A channel-pruned row also gets ``speedup_vs_unpruned`` (1 thread and all threads) against the unpruned
    file of the same conversion (``channels50_int8`` against ``int8``).
    """
    base = variants.get(baseline)
    for name, v in variants.items():
        if base is None:
            break
        v["ratio"] = v["size"] / base["size"]
        v["gzip_ratio"] = v["gzip_size"] / base["gzip_size"]
        v["delta_accuracy"] = 100.0 * (v["accuracy"] - base["accuracy"])
        v["speedup"] = _speedup(base, v)
        unpruned = variants.get(unpruned_name(name, v))
        if unpruned:
            v["speedup_vs_unpruned"] = {"1_thread": _speedup(unpruned, v),
                                        "all_threads": _speedup(unpruned, v, "latency_ms_all_threads")}
    return variants


def _channel_sections(report: dict) -> list[str]:
    """Per channel-pruned stage: MACs and parameters before and after, speed-ups, the widths before -> after."""
    lines, seen = [], set()
    for name, v in report["variants"].items():
        unpruned = unpruned_name(name, v)
        if unpruned is None:
            continue
        tag = name[: -len(unpruned) - 1]
        if tag not in seen:
            seen.add(tag)
            macs_ratio = "—" if v.get("macs_ratio") is None else f"{v['macs_ratio']:.3f}"
            what = f"Student `{v['student']}`" if v.get("student") else f"Channel pruning `{tag}`"
            removed = f", {v['ratio_removed']:.3f} of each layer's channels removed" if v.get("ratio_removed") else ""
            summary = (f"{what} ({v.get('fine_tuning', 'fine-tuned')}{removed}): {v['macs']:,} MACs "
                       f"({macs_ratio} of the float model's), {v['params']:,} parameters "
                       f"(float model {report['params']:,}).")
            slim = v.get("slimming")
            if slim:
                summary += (f" Slimming left {slim['small_gamma_after']:.1%} of the batch-norm scales below 0.01 "
                            f"(before: {slim['small_gamma_before']:.1%}).")
            lines += ["", summary]
            if v.get("widths"):
                lines += ["", "| layer | type | channels before | channels after |", "| --- | --- | ---: | ---: |"]
                lines += [f"| {w['layer']} | {w['type']} | {w['before']} | {w['after']} |" for w in v["widths"]]
            lines += ["", "| file | against | speed-up (1 thread) | speed-up (all threads) |",
                      "| --- | --- | ---: | ---: |"]
        s = v.get("speedup_vs_unpruned")
        if s:
            lines.append(f"| {name} | {unpruned} | {(s['1_thread'] or 0):.2f}× | {(s['all_threads'] or 0):.2f}× |")
    return lines + (["", CHANNELS_NOTE] if seen else [])


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
    lines += _channel_sections(report)
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
