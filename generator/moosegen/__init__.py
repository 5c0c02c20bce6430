"""moosegen: typed streaming pipelines generated from stream specs."""

__version__ = "0.1.0"
