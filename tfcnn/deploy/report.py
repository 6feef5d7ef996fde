"""``deploy.md``: the budget, the measured arena, the ops and the cross-check of one model, for a person to read."""

from __future__ import annotations


def kib(n) -> str:
    """Bytes as KiB with one decimal (``'14.4 KiB'``); ``'—'`` for ``None``."""
    return "—" if n is None else f"{n / 1024:,.1f} KiB"


def _verdict(fits) -> str:
    return "—" if fits is None else ("fits" if fits else "**does not fit**")


def markdown(r: dict) -> str:
    """The whole report as Markdown: budget, arena, ops, cross-check."""
    lines = _budget(r) + _arena(r) + _ops(r) + _cross_check(r)
    return "\n".join(lines)


def _budget(r: dict) -> list[str]:
    a, b = r["arena"], r["budget"]
    lines = [
        f"# `{r['name']}` on a microcontroller",
        "",
        f"Source `{r['source']}` (sha256 `{r['sha256'][:16]}…`), input {r['input_shape']}, TFLM {r['tflm_version']}.",
        "",
        "## Budget",
        "",
        "| | needs | budget | verdict |",
        "|---|---:|---:|---|",
        (f"| flash (model array) | {r['model_bytes']:,} B ({kib(r['model_bytes'])}) | {kib(b['flash_budget'])} | "
         f"{_verdict(b['flash_fits'])} |"),
        (f"| RAM (tensor arena, recommended) | {a['recommended']:,} B ({kib(a['recommended'])}) | "
         f"{kib(b['ram_budget'])} | {_verdict(b['ram_fits'])} |"),
        "",
        "Code, stack and the application's buffers need flash and RAM on top of these.",
    ]
    if b["suggestions"]:
        lines += ["", "What would fit (estimates scaled from the measured numbers, see docs/deploy.md):", ""]
        lines += [f"- {s['change']}: flash ≈ {kib(s['estimated_flash'])}, arena ≈ {kib(s['estimated_arena'])}"
                  for s in b["suggestions"]]
    return lines


def _arena(r: dict) -> list[str]:
    a = r["arena"]
    return [
        "",
        "## Tensor arena, measured by TFLM's recording allocator",
        "",
        (f"- persistent (tail): {a['persistent']:,} B; non-persistent (head: activations, scratch): "
         f"{a['non_persistent']:,} B; total {a['total']:,} B after `invoke()`"),
        (f"- smallest arena TFLM allocates and runs in (bisection, 16 B steps): {a['minimum']:,} B; preparing "
         "needs short-lived temporaries beyond the recorded total"),
        (f"- recommended: {a['recommended']:,} B (minimum × {a['margin']:g}, rounded up to 16 B); "
         f"TFLM {'ran' if a['verified'] else 'did NOT run'} in exactly that arena"),
        "- measured on a 64-bit host: a 32-bit MCU needs somewhat fewer persistent bytes",
        "",
        "```c",
        f"alignas(16) static uint8_t tensor_arena[{a['recommended']}];",
        "```",
    ]


def _ops(r: dict) -> list[str]:
    lines = [
        "",
        "## Ops (`op_resolver.h`)",
        "",
        "| op | count | resolver call | layers |",
        "|---|---:|---|---|",
    ]
    lines += [f"| {o['op']} | {o['count']} | `{o['resolver_method']}()` | {', '.join(o['layers'][:4])} |"
              for o in r["ops"]]
    return lines


def _cross_check(r: dict) -> list[str]:
    c = r["cross_check"]
    lines = [
        "",
        "## Cross-check: TFLM against LiteRT",
        "",
        f"On {c['images']:,} test images ({r['dataset']}), the same int8 inputs:",
        "",
        "| TFLM against | top-1 agreement | identical int8 outputs | max difference (int8 steps) |",
        "|---|---:|---:|---:|",
        (f"| LiteRT reference kernels (same integer arithmetic) | {c['top1_agreement']:.2%} | "
         f"{c['identical_outputs']:.2%} | {c['max_abs_diff_int8']} |"),
    ]
    if "xnnpack" in c:
        x = c["xnnpack"]
        lines.append(f"| LiteRT default (XNNPACK, as tfcnn.compress measures) | {x['top1_agreement']:.2%} | "
                     f"{x['identical_outputs']:.2%} | {x['max_abs_diff_int8']} |")
    lines.append("")
    return lines


__all__ = ["kib", "markdown"]
