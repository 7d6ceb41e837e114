"""Encoders turn pictures and text into L2-normalised vectors behind small protocols."""
