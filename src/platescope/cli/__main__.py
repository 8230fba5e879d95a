import sys

from platescope.cli._main import main

sys.exit(main())
