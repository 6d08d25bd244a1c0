"""The core every other layer stands on: the data set format and atomic writes (`data`), the
settings' dataclasses (`settings`), the plug-in protocol (`plugins`), devices and threads
(`runtime`), CPU kernels (`kernels`), the code digests (`fingerprint`), the scores of a run
(`scores`) and the figures' common look (`plotting`). It imports nothing above it
(tests/test_imports.py)."""
