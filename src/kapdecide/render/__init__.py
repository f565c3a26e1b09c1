"""Renderers: lay out a Report or a list of Problems as text or JSON. They never decide anything."""

from __future__ import annotations

FORMATS = ("text", "json")
