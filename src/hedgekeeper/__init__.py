"""hedgekeeper: keep a crypto derivatives book on target.

The public pricing API lives in :mod:`hedgekeeper.pricing`.
"""

__version__ = "0.1.0"
