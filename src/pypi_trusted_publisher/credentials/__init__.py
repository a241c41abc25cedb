"""Credentials for the CLI: options, environment, OS keyring, ~/.pypirc, prompts (see :mod:`.sources`)."""
