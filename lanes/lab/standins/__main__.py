"""``python -m lanes.lab.standins NAME ARGS``: run a lab host's stand-in (see the package):
``netplan``, ``sysctl``, ``systemctl``, and the lab's ``boot`` and ``power-off``."""

import sys

from lanes.lab.standins import STANDINS, netplan, sysctl, systemctl


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*STANDINS, "boot", "power-off"):
        print(f"usage: python -m lanes.lab.standins {{{','.join(STANDINS)}}} ARGS", file=sys.stderr)
        return 2
    name, args = argv[0], argv[1:]
    if name == "netplan":
        return netplan.main(args)
    if name == "sysctl":
        return sysctl.main(args)
    if name == "boot":
        return systemctl.boot()
    if name == "power-off":
        return systemctl.power_off()
    return systemctl.main(args)


sys.exit(main(sys.argv[1:]))
