"""uqa-plugin-example: a third-party uqa plugin (LRU encoder, templates, a sub-task)."""

__version__ = "0.1.0"
