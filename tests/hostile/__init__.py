"""A hostile probe of the rareshock command line: cases that each hold a defensible
expected behaviour (`cases.py`) and a runner that classifies what happened (`run.py`)."""
