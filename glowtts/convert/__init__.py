"""Converters that bring models trained elsewhere into a glowtts experiment dir."""

from glowtts.convert.official import import_official

__all__ = ["import_official"]
