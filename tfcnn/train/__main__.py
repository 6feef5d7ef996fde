"""``python -m tfcnn.train``."""

from tfcnn.train.cli import main

raise SystemExit(main())
