"""``python -m interp`` is the ``glasswasm`` command."""

from interp.cli.main import main

raise SystemExit(main())
