"""Plain data and the rules every layer shares: errors, secrets, indexes, publishers, validation, results."""
