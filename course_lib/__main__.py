"""``python -m course_lib <command>``: see ``course_lib/cli.py`` or ``python -m course_lib --help``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
