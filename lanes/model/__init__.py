"""The region's model, computed from the config: addresses, the plan, host networks, cluster ranges."""
