"""``python -m lanes.lab.standins NAME ARGS``: run a lab host's stand-in (see the package)."""

import sys

from lanes.lab.standins import main

sys.exit(main(sys.argv[1:]))
