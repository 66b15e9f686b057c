"""What the bench scripts share: printing their results as an aligned table,
or as JSON with --json, so the Rust side can read them."""

import json
import sys


def show(results):
    """Prints `results` (name -> value) as JSON with --json, else a table."""
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    for name, value in results.items():
        if isinstance(value, str):
            shown = value
        elif isinstance(value, int):
            shown = f"{value:10d}"
        elif value < 100:
            shown = f"{value:10.3f}"
        else:
            shown = f"{value:10.1f}"
        print(f"{name:50} {shown}")
