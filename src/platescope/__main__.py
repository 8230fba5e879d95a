"""``python -m platescope``: the same as the ``platescope`` command."""

import sys

from platescope.cli._main import main

if __name__ == "__main__":
    sys.exit(main())
