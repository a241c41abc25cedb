"""Register PyPI Trusted Publishers in one step."""

__version__ = "0.1.0"
