"""``python -m emviz``: start the explorer window."""

import sys

from emviz.app import main

if __name__ == "__main__":
    sys.exit(main())
