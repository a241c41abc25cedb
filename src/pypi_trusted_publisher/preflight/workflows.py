"""Read CI YAML the way GitHub and GitLab read it, keeping line numbers.

Findings must point at a line, and PyYAML's YAML 1.1 rules read the key ``on``
as ``True``. A SafeLoader with YAML 1.2 booleans and containers that remember
where each key and value starts solves both. PyYAML is imported on first use
so that importing the CLI stays cheap.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

BOOL_TAG = "tag:yaml.org,2002:bool"
# YAML 1.2 core schema: only true/false are booleans, so `on:`, `yes:` stay strings.
BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class YamlMap(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key and value."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.value_starts: dict[Any, tuple[int, str | None]] = {}

    def line_of(self, key: Any) -> int:
        """Line of ``key``, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.value_starts: dict[int, tuple[int, str | None]] = {}

    def line_of(self, index: int) -> int:
        return self.value_starts.get(index, (self.line, None))[0]


class YamlProblem(Exception):
    """The file cannot be read or parsed; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def text_line(container: YamlMap | YamlList, key: Any, offset: int) -> int:
    """Line of the ``offset``-th line inside a scalar value.

    Exact for ``|`` literal blocks (one source line per text line) and for
    one-line scalars; for other styles the key's line is the best we know.
    """
    start, style = container.value_starts.get(key, (container.line, None))
    if style == "|":
        return start + 1 + offset
    if offset == 0 and style != ">":
        return start
    return container.line_of(key)


@functools.cache
def _loader() -> type[Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader with YAML 1.2 booleans and line-carrying containers."""

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != BOOL_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(BOOL_TAG, BOOL_RE, list("tTfF"))

    def start(node: Any) -> tuple[int, str | None]:
        style = node.style if isinstance(node, yaml.ScalarNode) else None
        return node.start_mark.line + 1, style

    def construct_map(loader: Any, node: Any) -> YamlMap:
        loader.flatten_mapping(node)
        result = YamlMap(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark
                ) from None
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
            result.value_starts[key] = start(value_node)
        return result

    def construct_list(loader: Any, node: Any) -> YamlList:
        result = YamlList(node.start_mark.line + 1)
        for index, item in enumerate(node.value):
            result.append(loader.construct_object(item, deep=True))
            result.value_starts[index] = start(item)
        return result

    def construct_local_tag(loader: Any, _suffix: str, node: Any) -> Any:
        # GitLab's `!reference [.job, script]` and friends: keep the plain value.
        if isinstance(node, yaml.MappingNode):
            return construct_map(loader, node)
        if isinstance(node, yaml.SequenceNode):
            return construct_list(loader, node)
        return loader.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    Loader.add_constructor("tag:yaml.org,2002:seq", construct_list)
    Loader.add_multi_constructor("!", construct_local_tag)
    return Loader


def loads(text: str) -> Any:
    """Parse YAML; raise :class:`YamlProblem` instead of YAML errors.

    The last document wins: GitLab CI components put a ``spec:`` header
    document before the pipeline itself.
    """
    import yaml

    try:
        documents = list(yaml.load_all(text, Loader=_loader()))  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        raise _problem(exc, text.count("\n") + (not text.endswith("\n"))) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(str(exc), None) from None
    return documents[-1] if documents else None


def _problem(exc: Any, last_line: int) -> YamlProblem:
    """Point at the failing line; an error at end of file points where the open construct began."""
    problem = exc.problem or "invalid YAML"
    mark, context = exc.problem_mark, exc.context_mark
    if context is not None and exc.context:
        problem += f" ({exc.context} that starts on line {context.line + 1})"
        if mark is None or mark.line + 1 > last_line:
            mark = context
    return YamlProblem(problem, mark.line + 1 if mark is not None else None)


def load(path: Path) -> Any:
    """Read and parse ``path``; unreadable files are a :class:`YamlProblem` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlProblem(f"cannot read the file ({exc.__class__.__name__})", None) from None
    return loads(text)
