"""``python -m accord``: the ``accord`` command."""

from accord.cli.main import main

main()
