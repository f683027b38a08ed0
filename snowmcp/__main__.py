"""`python -m snowmcp`: the same command as the `snowmcp` script."""

import sys

from snowmcp.cli import main

sys.exit(main())
