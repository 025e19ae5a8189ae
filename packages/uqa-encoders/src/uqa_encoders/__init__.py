"""uqa-encoders: feature embedding, the sequential encoder zoo, NIP pre-training, export."""

__version__ = "0.1.0"
