from aimport.cli import main

raise SystemExit(main())
