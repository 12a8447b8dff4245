"""Entry point of ``python -m lanes``."""

import sys

from lanes.cli.main import main

sys.exit(main())
