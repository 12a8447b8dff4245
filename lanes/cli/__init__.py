"""``python -m lanes``: one module per command, their exit codes and ``--out``."""
