"""Satellite pipeline: scenes → cloud-free composites → land-cover strata and areas →
carbon-density maps → change.

Data contract (see :mod:`pipelines.satellite.cube`): every stage passes lazy, chunked xarray
objects on one 10 m grid; nothing loads a whole area into memory.
"""
