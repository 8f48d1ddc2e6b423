from reporting.rebuild.cli import main

raise SystemExit(main())
