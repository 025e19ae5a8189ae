"""Question generation for the seven UQABench sub-tasks."""
