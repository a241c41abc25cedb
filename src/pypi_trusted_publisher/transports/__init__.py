"""How the tool reaches the index (the web session, the token API, the manual link) and GitHub."""
