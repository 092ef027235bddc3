"""Atomic publication of the marts for readers (marts.py)."""

from disruptions.publish.marts import publish_marts

__all__ = ["publish_marts"]
