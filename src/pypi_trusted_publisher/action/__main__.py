"""Run the action's entrypoint (``action.yml`` calls this)."""

from .entrypoint import main

if __name__ == "__main__":
    raise SystemExit(main())
