"""Measurement pipelines: plot surveys (``pipelines.plots``), later satellite and campaigns."""
