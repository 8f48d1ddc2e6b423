from reporting.rollup.cli import main

raise SystemExit(main())
