"""``python -m scripts.docsgen [--check]`` (what ``scripts/gen_docs`` runs)."""

from scripts.docsgen import main

raise SystemExit(main())
