"""Pulumi ComponentResources of lanes: one per file, wiring only (no address is computed here)."""
