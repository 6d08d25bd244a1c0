"""`python -m longseq.steps`: the step table docs/method.md shows."""

from . import markdown

print(markdown())
