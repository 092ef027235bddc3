"""Disruption outcome measurement pipeline for ROCUs, police forces and the NCA."""

__version__ = "0.1.0"
