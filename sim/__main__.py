"""`python -m sim` is the `rareshock` command."""

import sys

from .cli import main

sys.exit(main())
