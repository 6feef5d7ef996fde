"""``python -m tfcnn.data.shard SPEC --out DIR --shards N``: write a dataset as sharded TFRecords.

Then train from them with ``--dataset tfrecord:DIR``: the files are read with
a parallel ``interleave``, and under ``--strategy multi_worker`` each worker
reads its own files (see :func:`tfcnn.data.records.shard_inputs`).

Example:
    python -m tfcnn.data.shard folder:photos --out photos_records --shards 16
    python -m tfcnn.train mobilenet_v2 --dataset tfrecord:photos_records --input-size 96
"""

from __future__ import annotations

import sys

from tfcnn._cli import ArgumentParser, run_main


def build_parser() -> ArgumentParser:
    """The command line's options."""
    p = ArgumentParser(prog="python -m tfcnn.data.shard",
                       description="Write a dataset (any --dataset spec) as sharded TFRecord files with a JSON index.")
    p.add_argument("spec", help="the dataset: mnist-t10k, digits, idx:DIR, folder:DIR or a tfds name")
    p.add_argument("--out", required=True, help="folder to create (must not exist or be empty)")
    p.add_argument("--shards", type=int, default=8, help="files per split (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the hold-out split and the written order")
    p.add_argument("--holdout", type=float, default=None, help="test fraction for a dataset with one split")
    p.add_argument("--skip-bad-images", action="store_true", help="leave out unreadable files of a folder")
    p.add_argument("--data-dir", default=None, help="TFDS data directory")
    p.add_argument("--manual-dir", default=None, help="folder of a tfds dataset's original files")
    return p


def _run(args) -> int:
    from tfcnn.data import load_dataset
    from tfcnn.data.records import write_shards

    extra = {"skip_bad_images": True} if args.skip_bad_images else {}
    data = load_dataset(args.spec, seed=args.seed, holdout=args.holdout, data_dir=args.data_dir,
                        manual_dir=args.manual_dir, **extra)
    if data.skipped:
        print(f"skipped {data.skipped} unreadable file(s), first: {', '.join(data.skipped_paths[:3])}")
    index = write_shards(data, args.out, args.shards, seed=args.seed, source=args.spec)
    counts = ", ".join(f"{name} {v['count']} in {len(v['files'])} files" for name, v in index["splits"].items())
    print(f"wrote {args.out}: {counts}; train with --dataset tfrecord:{args.out}")
    return 0


def main(argv=None) -> int:
    """Entry point; returns the exit code (2 with one line on stderr for bad input)."""
    return run_main(build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
