"""Test setup shared by the whole suite.

Qt must run without a display in CI, so the platform is chosen before any
test module can import Qt.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
