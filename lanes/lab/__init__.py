"""Rehearsal harness: hosts as network namespaces, reached over real SSH."""
