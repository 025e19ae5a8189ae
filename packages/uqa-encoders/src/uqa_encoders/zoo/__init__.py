"""The encoder zoo: one file per model, each a :class:`~uqa_encoders.zoo.base.SequentialEncoder`."""
