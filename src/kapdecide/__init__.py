"""kapdecide: clinical decision support for ketamine-assisted therapy in substance use disorders."""

__version__ = "0.1.0"
