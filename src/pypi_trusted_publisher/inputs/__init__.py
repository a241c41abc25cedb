"""What the user asked for, turned into validated registrations: options, the repository context, batch files."""
