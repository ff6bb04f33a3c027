"""`python -m bench` (what `make bench` runs): see bench/README.md."""

from bench.run import main

raise SystemExit(main())
