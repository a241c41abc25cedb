"""Pre-flight check: will the release workflow work with this trusted publisher?

``check_publisher`` reads the checkout, ``check_oidc`` inspects the running
job's token; both return a :class:`Report` for the four renderers. Importing
this package does not import PyYAML or httpx, so the CLI starts fast.
"""

from .findings import Finding, Report, render_annotations, render_json, render_markdown, render_text
from .oidc import check_oidc
from .rules import check_publisher

__all__ = [
    "Finding",
    "Report",
    "check_oidc",
    "check_publisher",
    "render_annotations",
    "render_json",
    "render_markdown",
    "render_text",
]
