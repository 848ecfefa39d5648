"""An example pymess plugin distribution: a backend and a hook plugin."""

__version__ = "0.1.0"
