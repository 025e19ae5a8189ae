"""uqa-align: LLM loading, adapters, soft-prompt injection, alignment training."""

__version__ = "0.1.0"
