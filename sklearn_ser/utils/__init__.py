"""Utilities shared by the parts of sklearn_ser."""

from .discovery import all_estimators

__all__ = ["all_estimators"]
