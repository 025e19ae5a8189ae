"""uqa-cli: the ``uqa`` command."""

__version__ = "0.1.0"
