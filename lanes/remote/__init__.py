"""Reaching hosts: the SSH client, drift (``lanes verify``), where a gateway's confirm connects."""
