"""``python -m symcnn`` is the ``symcnn`` command."""

import sys

from .cli import main

sys.exit(main())
