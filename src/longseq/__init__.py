"""longseq: compare strategies that make an LSTM work on sequences thousands of steps long."""

__version__ = "0.1.0"
