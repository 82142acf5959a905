"""``python -m emviz``: the ``emviz`` command (:func:`emviz.cli.main`)."""

import sys

from emviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
