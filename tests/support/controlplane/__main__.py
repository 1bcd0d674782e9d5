"""``python -m tests.support.controlplane``: the command line (cli.py)."""

import sys

from tests.support.controlplane.cli import main

sys.exit(main())
