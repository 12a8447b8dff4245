"""lanes: plan, provision and police the underlay networks of a bare-metal Kubernetes region."""

__all__: list[str] = []
__version__ = "0.1.0"
