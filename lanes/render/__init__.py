"""Renderers: structured data in, text out, in a stable order; one module per output format."""
