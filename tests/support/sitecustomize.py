"""Arms the tests' network guard (``netguard.py`` beside this file) in a subprocess.

Python imports ``sitecustomize`` at start-up from the first folder on ``PYTHONPATH`` that has
one, so a test puts this folder first and sets ``NETGUARD_LOG`` to a file: every refused
attempt is written there as one JSON line, after an ``armed`` line that proves the guard was
active in the process a test judges. Without ``NETGUARD_LOG`` this does nothing.
"""

from __future__ import annotations

import os

if os.environ.get("NETGUARD_LOG"):
    import netguard  # this folder is first on sys.path

    netguard.install(os.environ["NETGUARD_LOG"])
