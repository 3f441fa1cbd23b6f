"""``python -m watcher``, and the ``watcher`` command's entry point.

The command's code (click, rich, SQLAlchemy, httpx...) is imported inside
:func:`main`, so a Ctrl-C while it loads says "aborted" (exit 130) instead
of printing a traceback.
"""

import sys


def main() -> None:
    """Load the command line, then run it."""
    try:
        from watcher.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("aborted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
