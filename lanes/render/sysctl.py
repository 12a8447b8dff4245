"""The sysctl.d drop-in of one host (rp_filter, ARP, redirects, forwarding), from its model."""

from __future__ import annotations

from lanes.model.hostnet import HostNet

__all__ = ["SYSCTL_PATH", "render_sysctl"]

# After systemd's 50-default.conf (which sets rp_filter = 2), before the gateway's drop-in.
SYSCTL_PATH = "/etc/sysctl.d/60-lanes.conf"


def render_sysctl(net: HostNet) -> str:
    """``key = value`` lines in the model's order; byte-identical for the same model."""
    lines = [
        f"# {SYSCTL_PATH} for {net.host} ({net.role}), written by lanes.",
        "# Strict reverse-path filtering works with lanes' source policy routing: the check's",
        "# lookup uses the packet's destination as source, so the per-network tables apply.",
    ]
    forwards = any(key == "net.ipv4.ip_forward" for key, _ in net.sysctls)
    if net.role == "gateway" and forwards:
        lines.append("# Forwarding: this AZ router routes the line between the AZs.")
    elif net.role == "gateway":
        lines.append("# Forwarding is the EdgeGateway's drop-in, not this one.")
    lines += [f"{key} = {value}" for key, value in net.sysctls]
    return "\n".join(lines) + "\n"
