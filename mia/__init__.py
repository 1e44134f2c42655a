"""mia: a declarative rule engine for intraday futures trading (ES/NQ)."""
from pathlib import Path

__version__ = "0.1.0"

#: The project folder (the one holding rules/, config/, grammars/); code stays in mia/.
HOME = Path(__file__).resolve().parent.parent
