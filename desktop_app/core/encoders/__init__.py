"""Encoders turn pictures and text into L2-normalised vectors behind two small protocols."""

from desktop_app.core.encoders.base import ImageTextEncoder, TextEncoder

__all__ = ["ImageTextEncoder", "TextEncoder"]
