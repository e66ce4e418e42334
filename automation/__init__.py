"""rygrad: the automation worker of a collective-impact initiative's secretariat."""

__version__ = "0.1.0"
