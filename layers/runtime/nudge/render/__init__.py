"""Rendering: one email (HTML, plain text, MIME) from facts and copy; link signing; the gallery.

>>> from nudge.render import render_email, RenderedEmail  # doctest: +SKIP
"""

from nudge.render.compose import RenderedEmail, render_email

__all__ = ["RenderedEmail", "render_email"]
