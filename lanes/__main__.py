"""Entry point of ``python -m lanes``."""

import sys

from lanes.cli import main

sys.exit(main())
