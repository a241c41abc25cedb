"""Moving a whole account to trusted publishing: ``plan`` and the resumable ``add --config``.

- :mod:`.planner`: one login, then for each project its role, its publishers, its repository and its
  publishing job, turned into a :mod:`.verdicts` verdict;
- :mod:`.metadata`: the repository a project's public metadata (the JSON API) names;
- :mod:`.sources`: a repository's CI files from a local clone or :mod:`.github_api`;
- :mod:`.jobs`: the job that publishes a project (one environment per project in a monorepo);
- :mod:`.batch_file`, :mod:`.report`: the plan as the batch file ``add --config`` reads, as a table and as JSON;
- :mod:`.state`, :mod:`.resume`: a batch registered over several runs, a day apart when PyPI's limit says so;
- :mod:`.command`: the ``plan`` command.
"""
