"""``python -m hybrid_memory.cli``: the same as the ``hybrid-memory`` command."""

from hybrid_memory.cli.app import main

raise SystemExit(main())
