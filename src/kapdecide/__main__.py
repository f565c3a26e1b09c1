"""``python -m kapdecide``."""

from kapdecide.cli import main

main()
