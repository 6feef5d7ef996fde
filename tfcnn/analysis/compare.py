"""The zoo beside the papers: depth, parameters, MACs, FC share and the published error of every model.

The published errors live on the model cards (:data:`tfcnn.models.cards.FACTS`),
with the protocol each was measured by and its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tfcnn._compat import keras
from tfcnn.analysis.summary import _si, summarize
from tfcnn.models.cards import FACTS, PublishedError
from tfcnn.models.registry import create_model, get_config, list_models


def published_errors() -> dict[str, PublishedError]:
    """The published ImageNet error on each registered model's card, in the order of the notes."""
    return {name: get_config(name).published_error for name in notes_order()}


def notes_order() -> list[str]:
    """Registered names in the order of the notes (LeNet, AlexNet, ... MobileNet), then anything newer."""
    registered = list_models()
    return [n for n in FACTS if n in registered] + [n for n in registered if n not in FACTS]


def compare_architectures(names: Iterable[str] | None = None) -> list[dict]:
    """One row per registered architecture: depth, parameters, MACs, FC share, published error.

    Every model is built at its paper's default input with ``weights=None``
    and analysed with :func:`summarize`; the published figures come from
    :func:`published_errors`, the model cards (``None`` where the paper gives none).

    Args:
        names: registry names; default: all of :func:`tfcnn.list_models`, in
            the order of the notes (LeNet, AlexNet, ... MobileNet).

    Returns:
        A list of dicts with keys ``name``, ``input_shape``, ``depth``,
        ``params``, ``macs``, ``fc_share`` (0..1), ``top1_error``,
        ``top5_error``, ``protocol`` and ``source``.

    Raises:
        ValueError: an unknown name.

    Example:
        >>> rows = compare_architectures(["lenet"])
        >>> rows[0]["params"], rows[0]["depth"]
        (61706, 5)
    """
    names = notes_order() if names is None else list(names)
    for name in names:
        get_config(name)  # fail before the slow part
    rows = []
    for name in names:
        summary = summarize(create_model(name))
        published = get_config(name).published_error
        rows.append({
            "name": name, "input_shape": list(summary.input_shape), "depth": summary.depth,
            "params": summary.total_params, "macs": summary.total_macs, "fc_share": summary.fc_share,
            "top1_error": published.top1, "top5_error": published.top5, "protocol": published.protocol,
            "source": published.source,
        })
        keras.backend.clear_session()  # the zoo at 224x224 would otherwise pile up in memory
    return rows


def format_comparison(rows: list[dict], *, markdown: bool = False) -> str:
    """The rows of :func:`compare_architectures` as a text (or Markdown) table, then the sources.

    Example:
        >>> print(format_comparison(compare_architectures(["lenet"]), markdown=True))  # doctest: +SKIP
    """
    header = ("Model", "Input", "Depth", "Params", "MACs", "FC params", "Top-1 err %", "Protocol")
    table = [header]
    notes = []
    for row in rows:
        err = "-" if row["top1_error"] is None else str(float(row["top1_error"]))
        ref = ""
        if row["source"]:
            protocol = row["protocol"][:1].upper() + row["protocol"][1:]
            notes.append(f"{row['name']}: {row['source']}. {protocol}.")
            ref = f"[{len(notes)}]"
        table.append((row["name"], "x".join(str(d) for d in row["input_shape"]), str(row["depth"]),
                      f"{row['params'] / 1e6:.2f} M", _si(row["macs"]), f"{100 * row['fc_share']:.1f} %",
                      err, ("-" if row["top1_error"] is None else _short_protocol(row["protocol"]))
                      + (f" {ref}" if ref else "")))
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
        lines += [""] + [f"{i}. {note}" for i, note in enumerate(notes, start=1)]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if 1 < i < 7 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in table]
    lines.insert(1, "-" * len(lines[0]))
    lines += ["", ("MACs: multiply-accumulates per image at the input shown (FLOPs ~ 2 x MACs); depth: weighted "
              "layers on the longest path; FC params: share of parameters in Dense layers.")]
    lines += [f"[{i}] {note}" for i, note in enumerate(notes, start=1)]
    return "\n".join(lines)


def _short_protocol(protocol: str) -> str:
    p = protocol.lower()
    if re.search(r"\b(1|single)( \S+)? crop\b", p):  # before 10-crop: single-crop rows may mention 10 crops
        return "1-crop"
    if not protocol or "not" in p.split(",")[0] or "only" in p:
        return "-"
    if "10-crop" in p or "10 crops" in p:
        return "10-crop"
    if "dense" in p:
        return "dense, 1 scale"
    return "as reported"
