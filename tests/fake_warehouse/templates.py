"""Markup of the fake Warehouse: compact versions of the pages recorded from a real one.

The recordings (docs/protocol/README.md#recordings) carry navigation, styles, scripts and a debug
toolbar that no client needs. These templates drop all of that but keep, with the same
names and nesting, every element and attribute a client selects on: form ids and actions,
input names, the ``csrf_token`` hidden inputs, inline ``ul.form-errors`` lists, publisher
tables and their remove modals, the account page's two-factor section and the security-key
forms (whose CSRF token is a button's value), the flash-message include, and the bare WebOb
bodies of the 303/400/429 responses. A parser that works here should work on pypi.org, and
the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .records import GITLAB_ISSUER, FakePublisher

SITE_NAME = "PyPI"
SIMPLE_API_VERSION = "1.4"
KIND_TITLES = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "google": "Google",
    "activestate": "ActiveState",
}


def publisher_url(p: FakePublisher) -> str:
    """``publisher.publisher_url()`` as Warehouse's models build it ("" for Google, which has none)."""
    if p.kind == "github":
        return f"https://github.com/{p['owner']}/{p['repository']}"
    if p.kind == "gitlab":
        return f"{p['issuer_url']}/{p['namespace']}/{p['project']}"
    if p.kind == "activestate":
        return f"https://platform.activestate.com/{p['organization']}/{p['project']}"
    return ""


def publisher_specifier(p: FakePublisher) -> str:
    """``str(publisher)``: the text Warehouse puts in flash messages."""
    if p.kind == "github":
        return p["workflow_filename"]
    if p.kind == "gitlab":
        return p["workflow_filepath"]
    if p.kind == "google":
        return p["email"]
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
    500: ("Internal server error (500)", "Something went wrong"),
}


def error_page(code: int) -> str:
    """Warehouse's 403/404/500 pages (``error-base.html``): no ``main``, a dark viewport section."""
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


@dataclass(frozen=True)
class ProjectSnippet:
    """One project on a projects page: may the user manage it, does it have releases, its organization."""

    name: str
    manageable: bool
    has_releases: bool
    organization: str = ""
    sole_owner: bool = False


def _project_snippet(project: ProjectSnippet, manage_path: str) -> str:
    """``package_snippet`` of ``manage/projects.html``: the name, the organization and sole-owner badges, Manage
    (a link only for projects the user owns) and View."""
    normalized = esc(_normalized(project.name))
    badge = (
        f"""
            <a href="/manage/organization/{esc(_normalized(project.organization))}/projects/"
               class="badge">
              <i class="fa fa-sitemap" aria-hidden="true"></i>{esc(project.organization)}
            </a>"""
        if project.organization
        else ""
    )
    if project.sole_owner:
        badge += f"""
            <a href="/manage/project/{normalized}/collaboration/"
               class="badge badge--warning">Sole owner</a>"""
    manage = (
        f"""<a href="/manage/project/{normalized}/{manage_path}/"
             class="button button--primary"
             title="Manage this project">Manage</a>"""
        if project.manageable
        else """<button class="button button--primary"
                  disabled
                  title="You are not an owner of this project">
            Manage
          </button>"""
    )
    view = (
        f"""<a href="/project/{normalized}/"
             class="button"
             title="View this project's public page">View</a>"""
        if project.has_releases
        else """<button class="button"
                  disabled
                  title="This project has no releases">View</button>"""
    )
    return f"""    <div class="package-snippet">
    <div class="split-layout split-layout--no-wrap split-layout--wrap-on-tablet">
      <div>
        <h3 class="package-snippet__title">
          {esc(project.name)}{badge}
        </h3>
      </div>
      <div class="package-snippet__buttons">
          {manage}
          {view}
      </div>
    </div>
  </div>
"""


def _normalized(name: str) -> str:
    """PEP 503, as ``project.normalized_name``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def projects_page(projects: Sequence[ProjectSnippet]) -> str:
    """``/manage/projects/`` (``manage/projects.html``): every project the user has a role on or owns."""
    snippets = "".join(_project_snippet(p, "releases") for p in projects) or (
        """    <div class="callout-block no-top-margin">
      <p>You have not uploaded any projects to PyPI, yet.</p>
    </div>
"""
    )
    main = f"""  <h1 class="page-title">
Active Projects    <span class="badge badge--neutral">{len(projects)}</span>
  </h1>
  <div class="package-list">
{snippets}  </div>"""
    return page("Your projects", main)


def organization_projects_page(organization_name: str, projects: Sequence[ProjectSnippet]) -> str:
    """``/manage/organization/<name>/projects/`` (``manage/organization/projects.html``)."""
    snippets = "".join(_project_snippet(p, "settings") for p in projects) or (
        """    <div class="callout-block no-top-margin">
      <p>There are no projects in your organization, yet.</p>
    </div>
"""
    )
    main = f"""  <h2>
    Projects
    <span class="badge badge--neutral">{len(projects)}</span>
  </h2>
  <div class="package-list">
{snippets}  </div>"""
    return page(f"Manage '{organization_name}' projects", main)


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
    hidden_next = f'<input name="next" type="hidden" value="{esc(next_value)}">' if next_value else ""
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


_UPGRADE_BROWSER = (
    '<a href="https://developer.mozilla.org/en-US/docs/Web/API/PublicKeyCredential'
    '#Browser_compatibility" title="External link" target="_blank" rel="noopener">'
    "Upgrade your browser</a>"
)
_WEBAUTHN_LOGIN = """      <div class="twofa-login__method{padded}">
            <h2>Authenticate with a security device (e.g. USB key)</h2>
            <p>Connect your security device and click the "Authenticate with device" button.</p>
            <noscript>
              <p>Enable JavaScript to log in with a security device (e.g. USB key)</p>
            </noscript>
            <form id="webauthn-auth-form">
              <button type="submit"
                      id="webauthn-auth-begin"
                      class="button button--primary"
                      value="{csrf_token}"
                      disabled>Authenticate with device</button>
              <ul id="webauthn-errors"
                  class="form-errors form-errors--full-width margin-top--large">
                <li id="webauthn-browser-support" class="hidden">
{upgrade} to log in with a \
security device (e.g. USB key)              </li>
            </ul>
            <div class="form-group">
              <label>
                <input type="checkbox"
                       id="remember_device_webauthn"
                       name="remember_device"
                       value="true" />
Remember this device for 30 days            </label>
          </div>
          <p class="margin-top--large">
Lost your device? Not working? <a href="/help/#utfkey">Get help</a>.          </p>
        </form>
      </div>
"""


def two_factor_page(
    *,
    action: str,
    csrf_token: str,
    errors: Sequence[str],
    has_totp: bool = True,
    has_webauthn: bool = False,
    recovery_query: str | None = None,
) -> str:
    """``accounts/two-factor.html``: the security-key method (recording 88) and/or the TOTP
    form; ``recovery_query`` (the token) when the user has unused recovery codes."""
    title = ("Error processing form – " if errors else "") + "Two-factor authentication"
    both = has_totp and has_webauthn
    padded = " twofa-login__method--padded" if both else " "
    webauthn = (
        _WEBAUTHN_LOGIN.format(padded=padded, csrf_token=esc(csrf_token), upgrade=_UPGRADE_BROWSER)
        if has_webauthn
        else ""
    )
    divider = '<div class="twofa-login__divider"></div>' if both else ""
    totp = _totp_form(action, csrf_token, errors, padded) if has_totp else ""
    if recovery_query is not None:
        recovery = f"""<p>Lost your security key or application?</p>
<a href="/account/recovery-code/?{esc(recovery_query)}"
   class="button button--secondary">Login using recovery codes</a>"""
    else:
        recovery = """<p> <strong>You have not generated account recovery codes.</strong> </p> \
<p> If you lose access to your two factor methods, you may lose access to your account. \
<a href="/help/#recoverycodes">Get help with recovery codes.</a> </p>"""
    main = f"""  <div class="horizontal-section">
    <div class="site-container">
      <h1 class="page-title">Two-factor authentication</h1>
      <div class="twofa-login">
{webauthn}{divider}{totp}</div>
<hr>
<div class="twofa-recovery">
{recovery}</div>
    </div>
  </div>"""
    return page(title, main)


def _totp_form(action: str, csrf_token: str, errors: Sequence[str], padded: str) -> str:
    error_list = ""
    if errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in errors)
        error_list = (
            f'              <ul id="totp-errors" class="form-errors" role="alert">\n{items}              </ul>\n'
        )
    return f"""      <div class="twofa-login__method{padded}">
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
"""


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


# --- Account settings and security keys (docs/protocol/security-keys.md) ------------------------------------------


@dataclass(frozen=True)
class TwoFactorView:
    """What ``twofa_section`` (``manage_base.html``) shows: the methods, the keys as
    (row id, label), and the recovery-code state that gates adding a security device."""

    has_totp: bool
    keys: Sequence[tuple[str, str]]
    has_two_factor: bool
    has_single_2fa: bool
    unused_recovery_codes: int
    recovery_codes_age: str
    has_burned_recovery_codes: bool


_TWO_FACTOR_ABBR = '<abbr title="two factor authentication">2FA</abbr>'
_CANNOT_REMOVE = """                  <button class="button"
                          disabled
                          title="Cannot remove last 2FA method">
Remove                  </button>
"""


def _modal(*, slug: str, controller: str, method: str, action: str, csrf_token: str, body: str, confirm: str) -> str:
    """``confirm_modal`` / ``confirm_password_modal``: the form a "Remove" link opens."""
    return f"""                    <div id="{slug}"
       class="modal"
       data-controller="{controller}">
    <div class="modal__content" role="dialog">
      <a href="#modal-close"
         data-action="click->modal-close#cancel"
         title="Close"
         class="modal__close">
        <i class="fa fa-times" aria-hidden="true"></i>
        <span class="sr-only">Close</span>
      </a>
      <form method="{method}"
            class="modal__form"
            action="{esc(action)}">
        <input name="csrf_token"
               type="hidden"
               value="{esc(csrf_token)}">
        <div class="modal__body">
{body}        </div>
        <div class="modal__footer">
          <button type="reset"
                  class="button modal__action js-cancel"
                  data-action="click->modal-close#cancel">Cancel</button>
          <button type="submit"
                  class="button button--danger modal__action js-confirm"
{confirm}
        </div>
      </form>
    </div>
  </div>
"""


def _remove_link(slug: str) -> str:
    return f"""                  <a href="#{slug}"
                     class="button button--secondary">Remove</a>
"""


def _key_modal(key_id: str, label: str, csrf_token: str) -> str:
    """The hidden ``label`` selects the key; the typed ``confirm_device_name`` is only
    compared by the page's script."""
    slug = f"disable-webauthn-{key_id}"
    body = f"""          <h3 class="modal__title">
            Remove two factor security device - {esc(label)}
            ?
          </h3>
          <div class="form-group">                    <input type="hidden"
                           name="label"
                           value="{esc(label)}"
                           autocomplete="off">
</div>
            <p>
Confirm the device name to continue.            </p>
            <div class="form-group">
              <label for="{slug}-confirm_device_name">Device name</label>
              <input id="{slug}-confirm_device_name"
                     name="confirm_device_name"
                     data-action="input->confirm#check"
                     data-confirm-target="input"
                     data-modal-close-target="input"
                     type="text"
                     autocomplete="off"
                     autocapitalize="off"
                     spellcheck="false">
            </div>
"""
    confirm = f"""data-confirm-target="button" data-expected="{esc(label)}"                  \
data-modal-close-target="button">
            Remove device
          </button>"""
    return _remove_link(slug) + _modal(
        slug=slug,
        controller="confirm modal-close",
        method="POST",
        action="/manage/account/webauthn-provision/delete",
        csrf_token=csrf_token,
        body=body,
        confirm=confirm,
    )


def _totp_modal(csrf_token: str) -> str:
    """Removing the authentication application asks for the password."""
    body = """          <h3 class="modal__title">Remove authentication application</h3>
          <p>Enter your password to continue.</p>
          <div class="form-group">
            <input name="confirm_password"
                   data-action="input->confirm-password#check"
                   data-confirm-password-target="password"
                   data-modal-close-target="input"
                   type="password"
                   autocomplete="off"
                   autocorrect="off"
                   autocapitalize="off">
          </div>
"""
    confirm = """                  data-confirm-password-target="button"
                  data-modal-close-target="button">Remove application</button>"""
    return _remove_link("disable-totp") + _modal(
        slug="disable-totp",
        controller="confirm-password modal-close",
        method="post",
        action="/manage/account/totp-provision",
        csrf_token=csrf_token,
        body=body,
        confirm=confirm,
    )


def _two_factor_methods(state: TwoFactorView, csrf_token: str) -> str:
    """The "Two factor method" table. Removing TOTP is not served: its modal is rendered so
    the page reads like the real one, its POST finds no view."""
    single = state.has_single_2fa
    rows = []
    if single:
        rows.append("""            <tr>
              <td colspan="2" class="table__no-bottom-border">
                <div class="callout-block callout-block--warning no-top-margin no-bottom-margin">
To remove this 2FA method, you must first add another method.                </div>
              </td>
            </tr>
""")
    if state.has_totp:
        remove = _CANNOT_REMOVE if single else _totp_modal(csrf_token)
        rows.append(f"""            <tr>
              <th scope="row">
Authentication application (<abbr title="time-based one-time password">TOTP</abbr>)              </th>
              <td class="table__align-right">
                  <a href="/manage/account/totp-provision"
                     class="button button--primary">Edit</a>
{remove}              </td>
            </tr>
""")
    for key_id, label in state.keys:
        remove = _CANNOT_REMOVE if single else _key_modal(key_id, label, csrf_token)
        rows.append(f"""            <tr>
              <th scope="row">
                <strong>"{esc(label)}"</strong> - Security device \
(<abbr title="web authentication">WebAuthn</abbr>)              </th>
              <td class="table__align-right">
{remove}              </td>
            </tr>
""")
    return f"""      <table class="table table--2fa">
        <caption class="sr-only">Two factor authentication methods enabled</caption>
        <thead>
          <tr>
            <th scope="col" colspan="2">Two factor method</th>
          </tr>
        </thead>
        <tbody>
{"".join(rows)}        </tbody>
      </table>
"""


def _recovery_callout(state: TwoFactorView) -> str:
    """The callout that asks for recovery codes (generated, then one used) before a key."""
    adding = (
        "adding additional two factor authentication methods to your account"
        if state.has_two_factor
        else "enabling two factor authentication on your account"
    )
    if not state.unused_recovery_codes:
        return f"""  <div class="callout-block">
    <p>
You must generate and safely store recovery codes before {adding}.</p>
<a href="/manage/account/recovery-codes/generate"
   class="button button--primary">
Generate recovery codes</a>
</div>
"""
    if not state.has_burned_recovery_codes:
        return f"""<div class="callout-block">
  <p>
Use a recovery code before {adding}.</p>
<p>
  This is in order to verify that you have safely stored your recovery codes for use in the \
event of a lost 2FA device.
</p>
<a href="/manage/account/recovery-codes/burn"
   class="button button--primary">
Use a recovery code</a>
</div>
"""
    return ""


def _no_two_factor_callout(state: TwoFactorView) -> str:
    if not state.has_burned_recovery_codes or state.has_two_factor:
        return ""
    return """  <div class="callout-block">
    <p>
You have not enabled two factor authentication on your account.</p>
</div>
"""


def two_factor_section(state: TwoFactorView, csrf_token: str) -> str:
    """``section#two-factor`` of the account page (recordings 77 and 85)."""
    recovery = ""
    if state.unused_recovery_codes:
        recovery = f"""      <table class="table table--2fa">
        <caption class="sr-only">Recovery methods enabled</caption>
        <thead>
          <tr>
            <th scope="col" colspan="2">Recovery method</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">
Recovery codes - generated {esc(state.recovery_codes_age)} ago \
({state.unused_recovery_codes} unused).
            </th>
            <td class="table__align-right">
              <a href="/manage/account/recovery-codes/regenerate"
                 class="button button--secondary">Regenerate</a>
            </td>
          </tr>
        </tbody>
      </table>
"""
    methods = _two_factor_methods(state, csrf_token) if state.has_two_factor else ""
    disabled = " button--disabled" if not state.has_burned_recovery_codes else ""
    totp_disabled = " button--disabled" if disabled or state.has_totp else ""
    totp_title = "Only one authentication application (TOTP) can be used at a time"
    return f"""  <section id="two-factor">
    <h2 class="sub-title">Two factor authentication (2FA)</h2>
    <p>
Two factor authentication adds an additional layer of security to your account. \
<a href="/help#twofa">Learn more about {_TWO_FACTOR_ABBR}</a>. Once 2FA is enabled, it cannot \
be disabled.    </p>
{recovery}{methods}{_recovery_callout(state)}{_no_two_factor_callout(state)}\
<div class="wrap-children">
  <a href="/manage/account/totp-provision"
     class="button button--primary{totp_disabled}"
     title="{totp_title if state.has_totp else ""}">
Add {_TWO_FACTOR_ABBR} with authentication application</a>
<a href="/manage/account/webauthn-provision"
   class="button button--primary{disabled}"
   id="webauthn-button"
   aria-describedby="webauthn-errors">
Add {_TWO_FACTOR_ABBR} with security device (e.g. USB key)</a>
</div>
<noscript>
  <p>
Enable JavaScript to set up two factor authentication with a security device (e.g. USB key)  </p>
</noscript>
<ul id="webauthn-errors" class="form-errors form-errors--full-width">
  <li id="webauthn-browser-support" class="hidden margin-top--large">
{_UPGRADE_BROWSER} to set up two factor \
authentication with a security device (e.g. USB key)</li>
</ul>
</section>
"""


def account_page(*, csrf_token: str, username: str, two_factor: TwoFactorView) -> str:
    """``manage/account.html`` reduced to the account-details form (a CSRF token on every
    state of the page) and the two-factor section."""
    main = f"""  <h1 class="page-title">Account settings</h1>
  <section id="account-details">
    <h2 class="sub-title">Account details</h2>
    <div class="form-group">
      <span class="form-group__label">Username</span>
      <p class="form-group__text">{esc(username)}</p>
    </div>
  <form method="post">
    <input name="csrf_token"
           type="hidden"
           value="{esc(csrf_token)}">
    <div class="form-group">
      <label class="form-group__label" for="name">
Full name      </label>
      <input aria-describedby="full-name-errors" class="form-group__field" id="name" \
maxlength="100" name="name" placeholder="No name set" type="text" value="{esc(username)}">
      <div id="full-name-errors"></div>
    </div>
<input value="Update account"
       class="button button--primary"
       type="submit">
</form>
</section>
<hr>
{two_factor_section(two_factor, csrf_token)}"""
    return page("Account settings", main)


def webauthn_provision_page(csrf_token: str) -> str:
    """``manage/account/webauthn-provision.html``: the page's script posts the label and the
    credential; the session's CSRF token is the begin button's value."""
    title = "Set up 2FA with a security device (e.g. USB key)"
    main = f"""  <h1 class="page-title page-title--wsubtitle heading-wsubtitle__heading">{title}</h1>
<noscript>
  <p>
Enable JavaScript to set up two factor authentication with a security device (e.g. USB key)  </p>
</noscript>
<form id="webauthn-provision-form">
  <div class="form-group">
    <label for="webauthn-provision-label" class="form-group__label">
Name your device to begin      <span class="form-group__required">(required)</span>
    </label>
    <input id="webauthn-provision-label"
           type="text"
           name="label"
           class="form-group__field"
           aria-describedby="webauthn-errors">
    <p class="form-group__help-text">
PyPI supports adding multiple security devices.      <br>
Please give this device a name. 64 characters or fewer. All Unicode is valid, including \
spaces.    </p>
    <ul id="webauthn-errors" class="form-errors margin-top--large">
      <li id="webauthn-browser-support" class="hidden">
{_UPGRADE_BROWSER} to set up two factor \
authentication with a security device (e.g. USB key)    </li>
  </ul>
</div>
<div>
  <button type="submit"
          id="webauthn-provision-begin"
          class="button button--primary"
          value="{esc(csrf_token)}"
          disabled>Set up security device</button>
</div>
</form>"""
    return page(title, main)


def recovery_codes_burn_page(csrf_token: str, action: str) -> str:
    """``manage/account/recovery_codes-burn.html``: a recovery code proves the codes were kept."""
    body = f"""      <p>
In order to verify that you have safely stored your recovery codes for use in the event of a \
lost 2FA device, submit one of your recovery codes here.      </p>
      <form method="post" action="{esc(action)}">
        <input name="csrf_token"
               type="hidden"
               value="{esc(csrf_token)}">
        <input name="method" type="hidden" value="recovery-code">
        <div class="form-group">
          <label for="recovery_code_value" class="form-group__label">Enter recovery code</label>
          <input aria-describedby="recovery_code-errors" class="form-group__field" \
id="recovery_code_value" name="recovery_code_value" required="required" type="text" value="">
        </div>
        <div class="form-group">
          <input type="submit" value="Verify" class="button button--primary">
        </div>
      </form>
"""
    return simple_page("Use a recovery code", "Use a recovery code", body)


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
        _form_group(spec, form.values.get(spec.name, ""), form.errors.get(spec.name, ())) for spec in specs
    )
    if form.kind == "gitlab":
        # "The following field must be present for the view predicate to match."
        selected = " selected" if form.values.get("issuer_url", GITLAB_ISSUER) == GITLAB_ISSUER else ""
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
    publisher: FakePublisher
    delete_action: str
    project_name: str | None = None


def _any_or(value: str) -> str:
    return f"\n            {esc(value)}" if value else "\n            <i>(Any)</i>"


def _details(p: FakePublisher) -> str:
    """The Details cell of ``oidc_publisher_row`` (``manage_base.html``)."""
    link = f'<a href="{esc(publisher_url(p))}">'
    if p.kind == "github":
        return f"""          <b>Repository:</b> {link}{esc(p["owner"])}/{esc(p["repository"])}</a>
          <br>
          <b>Workflow:</b> {esc(p["workflow_filename"])}
          <br>
          <b>Environment name:</b>{_any_or(p["environment"])}
"""
    if p.kind == "gitlab":
        return f"""          <b>Project:</b> {link}{esc(p["namespace"])}/{esc(p["project"])}</a>
          <br>
          <b>Top-level pipeline:</b> {esc(p["workflow_filepath"])}
          <br>
          <b>Environment name:</b>{_any_or(p["environment"])}
          <br>
          <b>Issuer:</b> {esc(p["issuer_url"])}
"""
    if p.kind == "google":
        return f"""          <b>Email:</b> {esc(p["email"])}
          <br>
          <b>Subject:</b>{_any_or(p["sub"])}
"""
    assert p.kind == "activestate", p.kind
    return f"""          <b>Organization:</b> {esc(p["organization"])}
          <br>
          <b>ActiveState Project:</b> {link}{esc(p["project"])}</a>
          <br>
          <b>Actor:</b> {esc(p["actor"])}
          <br>
"""


def publisher_row(row: RowView, csrf_token: str) -> str:
    """A ``<tr>`` followed by its remove modal, which sits between rows inside ``tbody``."""
    title = KIND_TITLES[row.publisher.kind]
    name_cell = f'<td scope="row">{esc(row.project_name)}</td>' if row.project_name is not None else ""
    body = f"""          <h3 class="modal__title">
            Remove trusted publisher
            ?
          </h3>
              <p>
Removing this {title} trusted publisher will prevent automated package uploads from this \
source. You can re-add it later if needed.    </p>
          <div class="form-group">    <input name="publisher_id" type="hidden" \
value="{row.publisher_id}">
</div>
"""
    confirm = """                  data-modal-close-target="button">
            Remove publisher
          </button>"""
    modal = _modal(
        slug=f"remove-publisher-{row.publisher_id}",
        controller="modal-close",
        method="POST",
        action=row.delete_action,
        csrf_token=csrf_token,
        body=body,
        confirm=confirm,
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
{modal}"""


def _publisher_table(rows: Sequence[RowView], csrf_token: str, *, pending: bool, caption: str) -> str:
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
        _publisher_table(rows, csrf_token, pending=True, caption="Pending publishers for this organization")
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


def two_factor_method_email(username: str, *, added: bool = True) -> str:
    """The text part of ``two-factor-added`` / ``two-factor-removed`` (recordings 99, 100)."""
    change = (
        "added a WebAuthn two-factor authentication method to"
        if added
        else ("removed a WebAuthn two-factor authentication method from")
    )
    return (
        f"Someone, perhaps you, has {change} your PyPI account '{username}'.\n"
        "If you did not make this change, you can email admin@pypi.org to communicate with the "
        "PyPI administrators.\n"
    )


def recovery_code_reminder_email(username: str, generate_url: str) -> str:
    """The text part of ``recovery-code-reminder``, sent after a login by an account without
    unused recovery codes (laid out like recordings 99 and 100)."""
    return (
        f"We noticed you recently logged into your PyPI account '{username}', which has "
        "two-factor authentication enabled, but haven't generated recovery codes for this "
        "account.\n"
        "If you lose your authentication application or security key(s) and do not have access "
        "to these recovery codes, you may permanently lose access to your PyPI account!\n"
        f"You can generate recovery codes for your account here: {generate_url}\n"
    )


# --- E-mails of the OIDC exchange (docs/protocol/publish-time.md#pending-claim) -------------------
# Not recorded: laid out from the e-mail templates named, the wording kept to what they say.


def pending_reified_email(project_name: str, publisher_specifier: str) -> str:
    """The text part of ``pending-trusted-publisher-reified``, to the pending publisher's registrant."""
    return (
        "A pending trusted publisher you registered has been used to create the\n"
        f"project {project_name} on PyPI.\n\n"
        f"Publisher: {publisher_specifier}\n\n"
        "If you did not expect this, someone may have used your registered\n"
        "trusted publisher configuration.\n"
        "Please review the project and if anything looks wrong,\n"
        "email admin@pypi.org to communicate with the PyPI administrators.\n"
    )


def pending_invalidated_email(project_name: str) -> str:
    """The text part of ``pending-trusted-publisher-invalidated``, to other users with a look-alike pending name."""
    return (
        "You registered a pending trusted publisher for a project\n"
        f"({project_name}), but someone else has invalidated your pending publisher\n"
        "by creating the project, or one with a conflicting name, before you did.\n"
    )


def environment_ignored_email(project_name: str, environment: str) -> str:
    """The gist of ``environment-ignored-in-trusted-publisher``, to the project's Owners (links left out)."""
    return (
        f"A Trusted Publisher for project {project_name} was just used from a CI/CD job configured with an "
        f"environment.\nThe environment used was: {environment}.\n"
        "Since the Trusted Publisher is configured to allow any environment, for security reasons we recommend "
        "constraining it to only one.\n"
    )
