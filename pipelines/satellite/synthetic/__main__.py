"""``python -m pipelines.satellite.synthetic OUT ...``: write a demo data set (see
:func:`pipelines.satellite.synthetic.main`)."""

from pipelines.satellite.synthetic._demo import main

if __name__ == "__main__":
    raise SystemExit(main())
