from vdc_graph.cli import main

raise SystemExit(main())
