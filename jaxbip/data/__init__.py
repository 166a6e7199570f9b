"""Data: the embedded TFDS builders and the grain input pipeline."""
