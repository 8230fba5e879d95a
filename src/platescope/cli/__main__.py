"""``python -m platescope.cli``: the same as the ``platescope`` command."""

import sys

from platescope.cli._main import main

if __name__ == "__main__":  # worker processes that import this module must not rerun the CLI
    sys.exit(main())
