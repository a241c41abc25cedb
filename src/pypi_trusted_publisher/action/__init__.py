"""The GitHub Action front end: ``python -m pypi_trusted_publisher.action``.

``action.yml`` only installs the package and runs :func:`.entrypoint.main`;
everything the action does lives here so that it is importable and tested.
"""
