"""``python -m tfcnn.viz``."""

from tfcnn.viz.cli import main

raise SystemExit(main())
