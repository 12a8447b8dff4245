"""Tests of issue 3: host network model, renderers, SSH provisioning, host components."""
