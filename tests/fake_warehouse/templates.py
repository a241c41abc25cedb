"""Markup of the fake Warehouse: compact versions of the pages recorded from a real one.

The recordings (``shared/warehouse-pages``) carry navigation, styles, scripts and a debug
toolbar that no client needs. These templates drop all of that but keep, with the same
names and nesting, every element and attribute a client selects on: form ids and actions,
input names, the ``csrf_token`` hidden inputs, inline ``ul.form-errors`` lists, publisher
tables and their remove modals, the flash-message include, and the bare WebOb bodies of
the 303/400/429 responses. A parser that works here should work on pypi.org, and the
other way round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pypi_trusted_publisher.publishers import (
    ActiveStatePublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Publisher,
)

SITE_NAME = "PyPI"
SIMPLE_API_VERSION = "1.4"
GITLAB_ISSUER = "https://gitlab.com"
KIND_TITLES = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "google": "Google",
    "activestate": "ActiveState",
}


def publisher_url(p: Publisher) -> str:
    """``publisher.publisher_url()`` as Warehouse's models build it."""
    if isinstance(p, GitHubPublisher):
        return f"https://github.com/{p.owner}/{p.repository}"
    if isinstance(p, GitLabPublisher):
        return f"{p.issuer_url}/{p.namespace}/{p.project}"
    if isinstance(p, ActiveStatePublisher):
        return f"https://platform.activestate.com/{p.organization}/{p.project}"
    return ""


def publisher_specifier(p: Publisher) -> str:
    """``str(publisher)``: the text Warehouse puts in flash messages."""
    if isinstance(p, GitHubPublisher):
        return p.workflow_filename
    if isinstance(p, GitLabPublisher):
        return p.workflow_filepath
    if isinstance(p, GooglePublisher):
        return p.email
    return publisher_url(p)


class Markup(str):
    """Text that is already HTML (Warehouse marks a few messages as safe)."""


def esc(value: str) -> str:
    """Escape like Jinja's autoescape (MarkupSafe), so entity spellings match the site."""
    if isinstance(value, Markup):
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


# --- Whole pages ------------------------------------------------------------------------


def page(title: str, main: str) -> str:
    """The site layout reduced to the title, the flash include and ``main#content``."""
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
  <head>
    <meta charset="utf-8">
    <title>{esc(title)} · {SITE_NAME}</title>
  </head>
  <body data-controller="viewport-toggle">
<div data-html-include="/_includes/unauthed/flash-messages/"></div>
<main id="content">
{main}
</main>
  </body>
</html>
"""


_ERRORS = {
    403: ("Access Denied / Forbidden (403)", "You don't have permission to view this page"),
    404: ("Page Not Found (404)", "We looked everywhere but couldn't find this page"),
}


def error_page(code: int) -> str:
    """Warehouse's 403/404 pages (``error-base.html``): no ``main``, a dark viewport section."""
    title, heading = _ERRORS[code]
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
  <head>
    <meta charset="utf-8">
    <title>{title} · {SITE_NAME}</title>
  </head>
  <body data-controller="viewport-toggle">
<div class="viewport-section viewport-section--dark">
  <div class="viewport-section__content">
    <h1 class="viewport-section__heading">
{heading}    </h1>
      <div class="viewport-section__text">
        <p>
          <strong>Error code&nbsp;{code}</strong>
          <br>
          <a href="/">Back to the homepage</a>
        </p>
      </div>
  </div>
</div>
  </body>
</html>
"""


def webob_error(status: str, explanation: str, detail: str) -> str:
    """The bare body Pyramid/WebOb renders for an HTTP error that has no template."""
    return f"""<html>
 <head>
  <title>{status}</title>
 </head>
 <body>
  <h1>{status}</h1>
  {explanation}<br/><br/>
{esc(detail)}


 </body>
</html>"""


def redirect_body(location: str, status: str = "303 See Other") -> str:
    """The bare body of a redirect, as recorded for 303 See Other."""
    return f"""<html>
 <head>
  <title>{status}</title>
 </head>
 <body>
  <h1>{status}</h1>
  The resource has been moved to {esc(location)}; you should be redirected automatically.


 </body>
</html>"""


def simple_page(title: str, heading: str, body: str = "") -> str:
    """Pages the flow only passes through (home, projects list, account setup pages)."""
    return page(
        title,
        f"""  <div class="horizontal-section">
    <div class="site-container">
      <h1 class="page-title">{esc(heading)}</h1>
{body}    </div>
  </div>""",
    )


def projects_page(projects: Sequence[tuple[str, str, str | None, bool, bool]]) -> str:
    """``/manage/projects/`` (``manage/projects.html``): a package snippet per project the user has a role
    on, as (name, normalized name, organization, owned, sole owner). Only owned projects get a Manage
    link; the others a disabled Manage button."""
    snippets = []
    for name, normalized, organization, owned, sole in projects:
        badges = ""
        if organization:
            badges += (
                f'\n            <a href="/manage/organization/{esc(organization.lower())}/projects/"\n'
                f'               class="badge"><i class="fa fa-sitemap" aria-hidden="true"></i>{esc(organization)}</a>'
            )
        if sole:
            badges += (
                f'\n            <a href="/manage/project/{esc(normalized)}/collaboration/"\n'
                '               class="badge badge--warning">Sole owner</a>'
            )
        manage = (
            f'<a href="/manage/project/{esc(normalized)}/releases/"\n'
            '             class="button button--primary"\n             title="Manage this project">Manage</a>'
            if owned
            else '<button class="button button--primary"\n                  disabled\n'
            '                  title="You are not an owner of this project">Manage</button>'
        )
        snippets.append(
            f"""        <div class="package-snippet">
    <div class="split-layout split-layout--no-wrap split-layout--wrap-on-tablet">
      <div>
        <h3 class="package-snippet__title">
          {esc(name)}{badges}
        </h3>
      </div>
      <div class="package-snippet__buttons">
          {manage}
          <button class="button"
                  disabled
                  title="This project has no releases">View</button>
      </div>
    </div>
  </div>
"""
        )
    listing = "".join(snippets) or (
        '    <div class="callout-block no-top-margin">\n      <p>You have not uploaded any projects to PyPI, '
        "yet.</p>\n    </div>\n"
    )
    main = f"""  <h1 class="page-title">
Active Projects    <span class="badge badge--neutral">{len(snippets)}</span>
  </h1>
  <div class="package-list">
{listing}  </div>"""
    return page("Your projects", main)


def simple_detail_page(name: str) -> str:
    """``api/simple/detail.html`` (PEP 503) for a project without files: the fake stores none."""
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta name="pypi:repository-version" content="{SIMPLE_API_VERSION}">
    <meta name="pypi:project-status" content="active">
    <title>Links for {esc(name)}</title>
  </head>
  <body>
    <h1>Links for {esc(name)}</h1>
    </body>
</html>
<!--SERIAL 1-->"""


def logout_page(csrf_token: str, username: str, next_value: str) -> str:
    hidden = f'<input name="next" type="hidden" value="{esc(next_value)}">' if next_value else ""
    body = f"""      <form method="post" action="/account/logout/">
        <input name="csrf_token" type="hidden" value="{esc(csrf_token)}">
        {hidden}
        <input type="submit" value="Log out">
      </form>
"""
    return simple_page("Log out", f"Log out of {username}", body)


# --- Authentication pages -----------------------------------------------------------------


def _field_errors_block(errors: Sequence[str], indent: str = "              ") -> str:
    """Login-page errors: ``<ul class="form-errors">`` inside ``div#<field>-errors``."""
    if not errors:
        return ""
    items = "".join(f"<li>{esc(e)}</li>" for e in errors)
    return f'{indent}<ul class="form-errors" role="alert">\n{items}{indent}</ul>\n'


def login_page(
    *,
    action: str,
    csrf_token: str,
    next_value: str,
    username: str,
    errors: Mapping[str, Sequence[str]],
) -> str:
    title = ("Error processing form - " if errors else "") + "Log in"
    hidden_next = (
        f'<input name="next" type="hidden" value="{esc(next_value)}">' if next_value else ""
    )
    main = f"""  <div class="horizontal-section">
    <div class="site-container">
      <h1 class="page-title">Log in to {SITE_NAME}</h1>
      <form method="post"
            action="{esc(action)}"
            id="login-form">
        <input name="csrf_token"
               type="hidden"
               value="{esc(csrf_token)}">
        {hidden_next}
        <div class="form-group">
          <label for="username" class="form-group__label">Username</label>
          <input aria-describedby="username-errors" class="form-group__field" id="username" \
name="username" required="required" type="text" value="{esc(username)}">
          <div id="username-errors">
{_field_errors_block(errors.get("username", ()))}          </div>
        </div>
        <div data-controller="password" class="form-group">
          <label for="password" class="form-group__label">Password</label>
          <input aria-describedby="password-errors" class="form-group__field" id="password" \
maxlength="4096" name="password" required="required" type="password" value="">
          <div id="password-errors">
{_field_errors_block(errors.get("password", ()))}          </div>
          <input type="submit" value="Log in" class="button button--primary">
        </div>
      </form>
    </div>
  </div>"""
    return page(title, main)


def two_factor_page(*, action: str, csrf_token: str, errors: Sequence[str]) -> str:
    title = ("Error processing form – " if errors else "") + "Two-factor authentication"
    error_list = ""
    if errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in errors)
        error_list = (
            f'              <ul id="totp-errors" class="form-errors" role="alert">\n'
            f"{items}              </ul>\n"
        )
    main = f"""  <div class="horizontal-section">
    <div class="site-container">
      <h1 class="page-title">Two-factor authentication</h1>
      <div class="twofa-login">
      <div class="twofa-login__method ">
        <form method="post"
              action="{esc(action)}"
              id="totp-auth-form">
          <h2>Authenticate with an app</h2>
          <input name="csrf_token"
                 type="hidden"
                 value="{esc(csrf_token)}">
          <input name="method" type="hidden" value="totp">
          <div class="form-group">
            <label for="totp_value" class="form-group__label">Enter authentication code</label>
            <input aria-describedby="totp-errors" autocomplete="one-time-code" \
class="form-group__field" id="totp_value" inputmode="numeric" name="totp_value" \
pattern="\\d{{6}}" required="required" type="text" value="">
{error_list}          </div>
          <div class="form-group">
            <input type="submit" value="Verify" class="button button--primary">
          </div>
          <div class="form-group">
            <label>
              <input type="checkbox" name="remember_device" value="true" />
Remember this device for 30 days          </label>
        </div>
    </form>
  </div>
</div>
</div>
    </div>
  </div>"""
    return page(title, main)


def unrecognized_device_page() -> str:
    main = f"""  <div class="horizontal-section">
    <div class="site-container">
      <h1 class="page-title">Please confirm this login</h1>
      <p>
        We noticed you are attempting to log in from a new or previously unrecognized device. \
To ensure this is you, please check your email for a login confirmation link.
      </p>
      <p>
        You should have received an email from <strong>noreply@pypi.org</strong> with the \
subject line "<strong>Unrecognized login to your {SITE_NAME} account</strong>".
      </p>
      <p>
        If you can't find the email, attempt to log in again and a new confirmation
        email will be sent. To protect your inbox, sending may be limited to one
        email every 15 minutes.
      </p>
    </div>
  </div>"""
    return page("Unrecognized device", main)


def reauth_page(*, csrf_token: str, next_route: str, matchdict: str, query: str) -> str:
    """``re-auth.html``: rendered instead of a publishing page once the window has passed."""
    main = f"""  <div class="horizontal-section">
    <div class="site-container">
      <h1 class="page-title">Confirm password to continue</h1>
      <form method="post"
            action="/account/reauthenticate/">
        <input name="csrf_token"
               type="hidden"
               value="{esc(csrf_token)}">
        <input id="next_route" name="next_route" type="hidden" value="{esc(next_route)}">
        <input id="next_route_matchdict" name="next_route_matchdict" type="hidden" \
value="{esc(matchdict)}">
        <input id="next_route_query" name="next_route_query" type="hidden" value="{esc(query)}">
        <div data-controller="password" class="form-group">
          <div>
            <label for="password" class="form-group__label">Password</label>
          </div>
          <input aria-describedby="password-errors" class="form-group__field" id="password" \
maxlength="4096" name="password" required="required" type="password" value="">
          <div id="password-errors">
          </div>
          <div class="form-group">
            <input type="submit" value="Confirm password" class="button button--primary">
          </div>
      </div>
    </form>
  </div>
</div>"""
    return page("Confirm password", main)


# --- Flash messages ---------------------------------------------------------------------------

_FLASH_BARS = {
    "error": (" notification-bar--danger", "alert", "fa-exclamation-triangle", "Error"),
    "warning": (" notification-bar--warning", "alert", "fa-exclamation", "Warning"),
    "": ("", "", "", ""),
    "success": (" notification-bar--success", "status", "fa-check", "Success"),
}


def flash_fragment(flashes: Mapping[str, Sequence[str]]) -> str:
    """``includes/flash-messages.html``: queues in the template's order (error first)."""
    out = []
    for queue, (modifier, role, icon, label) in _FLASH_BARS.items():
        for message in flashes.get(queue, ()):
            role_attr = f'\n       role="{role}"' if role else ""
            icon_html = (
                f"""      <span class="notification-bar__icon">
        <i class="fa {icon}" aria-hidden="true"></i>
        <span class="sr-only">{label}</span>
      </span>
"""
                if icon
                else ""
            )
            out.append(f"""  <div class="notification-bar{modifier} notification-bar--dismissable"
       data-controller="notification"
       data-notification-target="notification"{role_attr}>
    <div class="notification-bar__container">
{icon_html}      <span class="notification-bar__message">{esc(message)}</span>
      <button type="button"
              title="Dismiss this notification"
              data-notification-target="dismissButton"
              data-action="click->notification#dismiss"
              class="notification-bar__dismiss"
              aria-label="Close">
        <i class="fa fa-times" aria-hidden="true"></i>
      </button>
    </div>
  </div>
""")
    return "".join(out)


# --- Publisher forms --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    label: str
    placeholder: str
    required: bool = True
    input_type: str = "text"
    label_for: str = ""


_FIELDS: dict[str, tuple[_Field, ...]] = {
    "github": (
        _Field("owner", "Owner", "owner"),
        _Field("repository", "Repository name", "repository"),
        _Field("workflow_filename", "Workflow name", "workflow.yml"),
        _Field("environment", "Environment name", "release", required=False),
    ),
    "gitlab": (
        _Field("namespace", "Namespace", "namespace"),
        _Field("project", "Project name", "project"),
        _Field("workflow_filepath", "Top-level pipeline file path", ".gitlab-ci.yml"),
        _Field("environment", "Environment name", "release", required=False),
    ),
    "google": (
        _Field("email", "Email", "email", input_type="email"),
        _Field("sub", "Subject", "subject", required=False, label_for="subject"),
    ),
    "activestate": (
        _Field("organization", "Organization", "my-organization"),
        _Field("project", "ActiveState Project name", "my-project"),
        _Field("actor", "Actor Username", "my-username"),
    ),
}
_PROJECT_NAME_FIELD = _Field("project_name", "PyPI Project Name", "project name")


@dataclass(frozen=True)
class FormView:
    """One publisher form as the server wants it rendered."""

    kind: str
    form_id: str
    action: str
    pending: bool
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, Sequence[str]] = field(default_factory=dict)


def _inline_errors(name: str, errors: Sequence[str]) -> str:
    """``field_errors`` macro: the ``ul`` reuses the wrapping div's id, as on the site."""
    if not errors:
        return ""
    items = "".join(f"<li>{esc(e)}</li>" for e in errors)
    return f'    <ul id="{name}-errors" class="form-errors" role="alert">\n{items}    </ul>\n'


def _form_group(spec: _Field, value: str, errors: Sequence[str]) -> str:
    required_attr = " required" if spec.required else ""
    marker = "(required)" if spec.required else "(optional)"
    return f"""  <div class="form-group">
    <label for="{spec.label_for or spec.name}" class="form-group__label">
{spec.label}        <span class="form-group__required">{marker}</span>
    </label>
    <input aria-describedby="{spec.name}-errors" autocomplete="off" class="form-group__field" \
id="{spec.name}" name="{spec.name}" placeholder="{spec.placeholder}"{required_attr} \
type="{spec.input_type}" value="{esc(value)}">
    <div id="{spec.name}-errors">{_inline_errors(spec.name, errors)}</div>
  </div>
"""


def publisher_form(form: FormView, csrf_token: str, *, prefilled: bool = False) -> str:
    """A tab's content: the optional autofill callout, the error anchor, then the form."""
    specs = ((_PROJECT_NAME_FIELD,) if form.pending else ()) + _FIELDS[form.kind]
    groups = "".join(
        _form_group(spec, form.values.get(spec.name, ""), form.errors.get(spec.name, ()))
        for spec in specs
    )
    if form.kind == "gitlab":
        # "The following field must be present for the view predicate to match."
        selected = (
            " selected" if form.values.get("issuer_url", GITLAB_ISSUER) == GITLAB_ISSUER else ""
        )
        groups += (
            '  <select hidden id="issuer_url" name="issuer_url" required>'
            f'<option{selected} value="{GITLAB_ISSUER}">{GITLAB_ISSUER}</option></select>\n'
        )
    callout = (
        """    <div id="prefilled-warning" class="callout-block callout-block--warning">
    <h3 class="callout-block__heading">Proceed with caution!</h3>
    <p>
Some form fields have been autofilled, please double-check their values before submitting \
the form.    </p>
  </div>
"""
        if prefilled
        else ""
    )
    anchor = '<div id="errors"></div>\n' if form.errors else ""
    return f"""{callout}  <p>
Read more about {KIND_TITLES[form.kind]}'s OpenID Connect support.</p>
{anchor}<form id="{form.form_id}"
      method="post"
      action="{esc(form.action)}#errors">
  <input name="csrf_token"
         type="hidden"
         value="{esc(csrf_token)}">
{groups}<div>
  <input type="submit"
         value="Add"
         class="button button--primary">
</div>
</form>
"""


def publisher_tabs(forms: Sequence[FormView | None], csrf_token: str, prefilled: str) -> str:
    """The horizontal tabs; ``None`` stands for a provider disabled by an admin flag."""
    buttons = []
    panels = []
    for index, form in enumerate(forms):
        if form is None:
            continue
        target = "tab prefilledTab" if form.kind == prefilled else "tab"
        active = "is-active" if index == 0 else ""
        buttons.append(
            f'          <button data-horizontal-tabs-target="{target}"\n'
            f'                  data-action="horizontal-tabs#change"\n'
            f'                  class="tab {active}">{KIND_TITLES[form.kind]}</button>\n'
        )
        hidden = "is-hidden" if index == 0 else ""
        panels.append(
            f'        <div class="horizontal-tabs__tabcontent {hidden}"\n'
            f'             data-horizontal-tabs-target="tabPanel">\n'
            f"{publisher_form(form, csrf_token, prefilled=form.kind == prefilled)}</div>\n"
        )
    return (
        '  <div class="horizontal-tabs"\n'
        '       data-controller="horizontal-tabs"\n'
        '       data-horizontal-tabs-index="0">\n'
        '    <div class="horizontal-tabs__tabbar">\n'
        f"{''.join(buttons)}    </div>\n{''.join(panels)}  </div>\n"
    )


# --- Publisher listings -----------------------------------------------------------------------


@dataclass(frozen=True)
class RowView:
    """A row of a publisher table; ``project_name`` is set for pending publishers only."""

    publisher_id: str
    publisher: Publisher
    delete_action: str
    project_name: str | None = None


def _any_or(value: str) -> str:
    return f"\n            {esc(value)}" if value else "\n            <i>(Any)</i>"


def _details(p: Publisher) -> str:
    """The Details cell of ``oidc_publisher_row`` (``manage_base.html``)."""
    link = f'<a href="{esc(publisher_url(p))}">'
    if isinstance(p, GitHubPublisher):
        return f"""          <b>Repository:</b> {link}{esc(p.owner)}/{esc(p.repository)}</a>
          <br>
          <b>Workflow:</b> {esc(p.workflow_filename)}
          <br>
          <b>Environment name:</b>{_any_or(p.environment)}
"""
    if isinstance(p, GitLabPublisher):
        return f"""          <b>Project:</b> {link}{esc(p.namespace)}/{esc(p.project)}</a>
          <br>
          <b>Top-level pipeline:</b> {esc(p.workflow_filepath)}
          <br>
          <b>Environment name:</b>{_any_or(p.environment)}
          <br>
          <b>Issuer:</b> {esc(p.issuer_url)}
"""
    if isinstance(p, GooglePublisher):
        return f"""          <b>Email:</b> {esc(p.email)}
          <br>
          <b>Subject:</b>{_any_or(p.sub)}
"""
    assert isinstance(p, ActiveStatePublisher)
    return f"""          <b>Organization:</b> {esc(p.organization)}
          <br>
          <b>ActiveState Project:</b> {link}{esc(p.project)}</a>
          <br>
          <b>Actor:</b> {esc(p.actor)}
          <br>
"""


def publisher_row(row: RowView, csrf_token: str) -> str:
    """A ``<tr>`` followed by its remove modal, which sits between rows inside ``tbody``."""
    title = KIND_TITLES[row.publisher.kind]
    name_cell = (
        f'<td scope="row">{esc(row.project_name)}</td>' if row.project_name is not None else ""
    )
    return f"""  <tr>
{name_cell}    <td scope="row">{title}</td>
    <td scope="row">
      <small>
{_details(row.publisher)}      </small>
    </td>
    <td scope="row">
      <a href="#remove-publisher-{row.publisher_id}"
         class="button button--danger">Remove</a>
    </td>
  </tr>
    <div id="remove-publisher-{row.publisher_id}"
       class="modal"
       data-controller="modal-close">
    <div class="modal__content" role="dialog">
      <form method="POST"
            class="modal__form"
            action="{esc(row.delete_action)}">
        <input name="csrf_token"
               type="hidden"
               value="{esc(csrf_token)}">
        <div class="modal__body">
          <h3 class="modal__title">
            Remove trusted publisher
            ?
          </h3>
              <p>
Removing this {title} trusted publisher will prevent automated package uploads from this \
source. You can re-add it later if needed.    </p>
          <div class="form-group">    <input name="publisher_id" type="hidden" \
value="{row.publisher_id}">
</div>
        </div>
        <div class="modal__footer">
          <button type="reset"
                  class="button modal__action js-cancel"
                  data-action="click->modal-close#cancel">Cancel</button>
          <button type="submit"
                  class="button button--danger modal__action js-confirm"
                  data-modal-close-target="button">
            Remove publisher
          </button>
        </div>
      </form>
    </div>
  </div>
"""


def _publisher_table(
    rows: Sequence[RowView], csrf_token: str, *, pending: bool, caption: str
) -> str:
    name_header = '          <th scope="col">Pending project name</th>\n' if pending else ""
    caption_html = f'      <caption class="sr-only">{esc(caption)}</caption>\n' if caption else ""
    body = "".join(publisher_row(row, csrf_token) for row in rows)
    return f"""    <table class="table table--publisher-list">
{caption_html}      <thead>
        <tr>
{name_header}          <th scope="col">Publisher</th>
          <th scope="col">Details</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
{body}      </tbody>
    </table>
"""


_OIDC_INTRO = """    <h1 class="page-title">Trusted Publisher Management</h1>
      <p>
OpenID Connect (OIDC) provides a flexible, credential-free mechanism for delegating publishing \
authority for a PyPI package to a trusted third party service, like GitHub Actions.</p>
"""
_NO_PENDING = (
    '    <p class="no-bottom-padding">\nNo pending publishers are currently configured. '
    "Publishers for projects that don't exist yet can be added below.  </p>\n"
)


def project_publishing_page(
    *,
    project_name: str,
    csrf_token: str,
    rows: Sequence[RowView],
    forms: Sequence[FormView | None],
    prefilled: str,
) -> str:
    """``manage/project/publishing.html``."""
    if rows:
        listing = _publisher_table(
            rows,
            csrf_token,
            pending=False,
            caption=f"OpenID Connect publishers associated with {project_name}",
        )
    else:
        listing = '    <p class="no-bottom-padding">No publishers are currently configured.</p>\n'
    main = f"""      <a class="package-snippet package-snippet--margin-bottom"
         href="/project/{esc(project_name)}/">
          <h1 class="package-snippet__title package-snippet__title--page-title">\
{esc(project_name)}</h1>
      </a>
  <div class="horizontal-section">
    <div class="site-container">
  <section>
{_OIDC_INTRO}    <h2>Manage current publishers</h2>
{listing}  </section>
  <section>
    <h2 class="no-bottom-padding">Add a new publisher</h2>
{publisher_tabs(forms, csrf_token, prefilled)}  </section>
    </div>
  </div>"""
    return page("Trusted Publisher Management", main)


def account_publishing_page(
    *,
    csrf_token: str,
    active_projects: Sequence[str],
    rows: Sequence[RowView],
    forms: Sequence[FormView | None],
) -> str:
    """``manage/account/publishing.html``."""
    if active_projects:
        items = "".join(
            f"""          <tr>
            <td scope="row">{esc(name)}</td>
            <td scope="row">
              <a href="/manage/project/{esc(name)}/settings/publishing/"
                 class="button button--primary">Manage</a>
            </td>
          </tr>
"""
            for name in active_projects
        )
        active = f"""      <table class="table">
        <thead>
          <tr scope="col">
            <th scope="col">Project</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
{items}        </tbody>
      </table>
"""
    else:
        active = (
            '      <p class="no-bottom-padding">\nNo publishers are currently configured. '
            "Publishers for existing projects can be added in the publishing configuration "
            "for each individual project.    </p>\n"
        )
    pending = _publisher_table(rows, csrf_token, pending=True, caption="") if rows else _NO_PENDING
    main = f"""  <section>
{_OIDC_INTRO}    <h2 class="no-bottom-padding">Manage publishers</h2>
    <h3>Projects with active publishers</h3>
{active}  <h3>Pending publishers</h3>
{pending}</section>
<section>
  <h2>Add a new pending publisher</h2>
{publisher_tabs(forms, csrf_token, "")}</section>"""
    return page("Trusted Publisher Management", main)


def organization_publishing_page(
    *,
    organization_name: str,
    csrf_token: str,
    rows: Sequence[RowView],
    forms: Sequence[FormView | None],
) -> str:
    """``manage/organization/publishing.html``."""
    pending = (
        _publisher_table(
            rows, csrf_token, pending=True, caption="Pending publishers for this organization"
        )
        if rows
        else _NO_PENDING
    )
    main = f"""  <section>
{_OIDC_INTRO}  <h3>Pending publishers</h3>
{pending}</section>
<section>
  <h2>Add a new pending publisher</h2>
{publisher_tabs(forms, csrf_token, "")}</section>"""
    return page(f"Trusted Publisher Management for '{organization_name}'", main)


# --- E-mail -----------------------------------------------------------------------------------


def unrecognized_login_email(*, confirm_url: str, ip_address: str, user_agent: str) -> str:
    """The text part of the ``unrecognized-login`` e-mail (recording 09)."""
    return f"""A login attempt was made from an unrecognized device.

To complete your login, please visit the following link from the same device
from which you attempted to log in:

{confirm_url}

This login attempt was made from:
- IP address: {ip_address}
- Location: Unknown
- User agent: {user_agent}

If you did not initiate this login, you can email admin@pypi.org to
communicate with the PyPI administrators.
"""
