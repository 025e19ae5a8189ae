"""uqa-eval: answering, scoring, baselines and reports."""

__version__ = "0.1.0"
