"""``python -m tfcnn.compress MODEL_DIR [options]``; see :mod:`tfcnn.compress.cli`."""

from tfcnn.compress.cli import main

raise SystemExit(main())
