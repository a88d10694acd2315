"""``python -m sfbsim``: the command line."""

from sfbsim.cli import main

main()
