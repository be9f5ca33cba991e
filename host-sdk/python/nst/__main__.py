"""`python -m nst ARGS`: the same as the `nst` command."""

import sys

from ._command import main

sys.exit(main())
