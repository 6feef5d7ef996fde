"""``python -m tfcnn.deploy``."""

from tfcnn.deploy.cli import main

raise SystemExit(main())
