"""A repository's CI files as a folder laid out like a checkout, from a local clone or GitHub's API.

The workflow analysis (``check``) reads a checkout, so the GitHub API's files are
written into a temporary folder with the same layout and analysed by the same
code. A local clone in ``--checkouts DIR`` is preferred: a sub-folder named like
the repository, or any clone whose ``origin`` is the repository. Each repository
is read once, however many projects it publishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..inputs.context import RepoContext
from ..transports.github import GitHubApi, GitHubError
from .metadata import SourceRepository

WORKFLOWS = ".github/workflows"


@dataclass(frozen=True)
class Source:
    """Where one repository's files were read, and the context the analysis runs in."""

    repository: SourceRepository  # as GitHub names it now (after a rename)
    folder: Path
    env: dict[str, str]
    where: str  # "checkout DIR/x" or "GitHub API, branch main"
    notes: tuple[str, ...] = ()

    def context(self) -> RepoContext:
        return RepoContext(cwd=self.folder, env=self.env)


class Checkouts:
    """The clones in ``--checkouts DIR``: found by folder name first, else by their ``origin`` remote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_origin: dict[tuple[str, str], Path] | None = None

    def find(self, repository: SourceRepository) -> tuple[Path | None, list[str]]:
        """The clone of ``repository``, and notes about folders that looked like it but are not clones."""
        notes: list[str] = []
        for child in self._folders():
            if child.name.lower() == repository.name.lower():
                if (child / ".git").exists():
                    return child, notes
                notes.append(f"{child} is not a git checkout (it has no .git), so it was not used")
        wanted = (repository.owner.lower(), repository.name.lower())
        return self._origins().get(wanted), notes

    def _folders(self) -> list[Path]:
        try:
            return sorted(p for p in self.root.iterdir() if p.is_dir())
        except OSError:
            return []

    def _origins(self) -> dict[tuple[str, str], Path]:
        if self._by_origin is None:
            self._by_origin = {}
            for child in self._folders():
                if (child / ".git").exists() and (remote := RepoContext(cwd=child, env={}).git_remote()):
                    self._by_origin.setdefault((remote[0].lower(), remote[1].lower()), child)
        return self._by_origin


@dataclass
class SourceReader:
    """Reads each repository once: a checkout when there is one, else GitHub's API into ``workdir``."""

    api: GitHubApi
    workdir: Path
    checkouts: Checkouts | None = None
    _cache: dict[tuple[str, str], Source | GitHubError] = field(default_factory=dict)

    def read(self, repository: SourceRepository) -> Source:
        """The repository's files; raises :class:`GitHubError` with the reason when there is no way to read them."""
        found = self._cache.get(repository.key)
        if found is None:
            try:
                found = self._read(repository)
            except GitHubError as exc:
                found = exc
            self._cache[repository.key] = found
        if isinstance(found, GitHubError):
            raise found
        return found

    def _read(self, repository: SourceRepository) -> Source:
        notes: list[str] = []
        if self.checkouts is not None:
            clone, notes = self.checkouts.find(repository)
            if clone is not None:
                return Source(repository, clone, {}, f"checkout {clone}", tuple(notes))
        if repository.host != "github.com":
            raise GitHubError(
                "no-checkout",
                f"{repository} is read from a checkout only: clone it into the --checkouts folder"
                + "".join(f"; {note}" for note in notes),
            )
        try:
            return self._from_api(repository, notes)
        except GitHubError as exc:
            exc.message += "".join(f"; {note}" for note in notes)
            raise

    def _from_api(self, repository: SourceRepository, notes: list[str]) -> Source:
        info = self.api.repository(repository.path)
        if info.renamed_from:
            notes.append(f"GitHub redirects {info.renamed_from} to {info.full_name}: the publisher names the new name")
        if info.private:
            notes.append("the repository is private: GitHub offers environments in private repositories on paid "
                         "plans only, so on GitHub Free a job's `environment:` does not apply")
        current = SourceRepository("github.com", info.full_name, repository.url, repository.label)
        folder = self.workdir / "github.com" / info.full_name
        workflows = folder / WORKFLOWS
        workflows.mkdir(parents=True, exist_ok=True)
        for name, kind in self.api.folder(info.full_name, WORKFLOWS, info.default_branch):
            if kind == "file" and _plain_name(name) and name.endswith((".yml", ".yaml")):
                text = self.api.text(info.full_name, f"{WORKFLOWS}/{name}", info.default_branch)
                if text is not None:
                    (workflows / name).write_text(text, encoding="utf-8")
        pyproject = self.api.text(info.full_name, "pyproject.toml", info.default_branch)
        if pyproject is not None:
            (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        where = f"GitHub API, branch {info.default_branch}"
        return Source(current, folder, {"GITHUB_REPOSITORY": info.full_name}, where, tuple(notes))


def _plain_name(name: str) -> bool:
    """A file name, never a path: what GitHub lists is data, not a place to write to."""
    return PurePosixPath(name).name == name and name not in ("", ".", "..") and "\\" not in name
