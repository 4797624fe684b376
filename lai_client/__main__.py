"""`python -m lai_client` runs the `lai` command."""

import sys

from lai_client.cli import main

sys.exit(main())
