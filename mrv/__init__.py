"""Huzhou carbon-sink MRV: the shared core (units, statistics, uncertainty, datums, errors)."""

from mrv.errors import InputError, MRVError, Problem
from mrv.settings import Settings

__all__ = ["InputError", "MRVError", "Problem", "Settings"]
__version__ = "0.1.0"
