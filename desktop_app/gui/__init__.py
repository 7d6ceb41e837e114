"""The PySide6 desktop face. Only this package imports Qt; it talks to the core via Engine."""
