"""The Qt-free search engine. Faces use :class:`desktop_app.core.engine.Engine` only."""
