from aimport.cli import main

# Guarded: worker processes load the parent's main module as __mp_main__.
if __name__ == "__main__":
    raise SystemExit(main())
