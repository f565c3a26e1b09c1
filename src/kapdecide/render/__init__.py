"""Renderers: lay out a Report or a list of Problems as text, JSON, JUnit or CDS Hooks. They never decide anything."""
