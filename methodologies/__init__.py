"""Documented, versioned carbon-sink methodologies and their registry."""

from methodologies.base import Methodology, PlotComponents, Pool, Survey
from methodologies.parameters import Parameter, ParameterSet, ParamValues
from methodologies.registry import MethodologyRegistry, default_registry, get

__all__ = [
    "Methodology",
    "MethodologyRegistry",
    "ParamValues",
    "Parameter",
    "ParameterSet",
    "PlotComponents",
    "Pool",
    "Survey",
    "default_registry",
    "get",
]
