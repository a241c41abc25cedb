"""Results and listings as the user reads them: text, one JSON line, tables."""
