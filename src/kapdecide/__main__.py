"""``python -m kapdecide``."""

from .cli import main

main()
