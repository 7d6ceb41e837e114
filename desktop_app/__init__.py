"""Snapfind: local, offline multimodal similarity search."""

__version__ = "0.1.0"
