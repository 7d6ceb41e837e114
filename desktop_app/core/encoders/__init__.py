"""Encoders turn pictures and text into L2-normalised vectors behind small protocols."""

from desktop_app.core.encoders.base import DocumentTextEncoder, ImageTextEncoder, TextEncoder

__all__ = ["DocumentTextEncoder", "ImageTextEncoder", "TextEncoder"]
