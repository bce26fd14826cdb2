"""``python -m frontdesk`` is the same as the ``frontdesk`` command."""

from frontdesk.cli import main

if __name__ == "__main__":
    main()
