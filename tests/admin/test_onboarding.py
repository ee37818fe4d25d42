"""The onboarding view of an app, a pure function of its registration: the right values in each
snippet, each snippet valid enough for its tool (Python compiles, JavaScript passes `node
--check` where Node is installed, mod_auth_openidc has its required directives), and never the
secret."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from admin.onboarding import SECRET_VARIABLE, Onboarding, discovery_url, onboarding_for
from idp.models import Client

ISSUER = "https://id.example.ee"
DISCOVERY = "https://id.example.ee/.well-known/openid-configuration"


def make_client(**overrides: Any) -> Client:
    fields: dict[str, Any] = {
        "client_id": "tax-office-7",
        "name": "Tax office",
        "secret_digest": "0" * 64,
        "is_public": False,
        "redirect_uris": ["https://tax.example/cb?tenant=7", "https://tax.example/oidc/callback"],
        "post_logout_redirect_uris": ["https://tax.example/"],
        "backchannel_logout_uri": "https://api.tax.example/logout?tenant=7",
        "frontchannel_logout_uri": None,
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "profile", "email"],
        "require_pkce": False,
        "id_token_signed_response_alg": "ES256",
        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
        **overrides,
    }
    return Client(**fields)


def _snippet(view: Onboarding, language: str) -> str:
    found = [s.text for s in view.snippets if s.language == language]
    assert len(found) == 1, [s.tool for s in view.snippets]
    return found[0]


def _directives(apache: str) -> dict[str, str]:
    lines = [line.strip() for line in apache.splitlines()]
    return dict(line.split(" ", 1) for line in lines if line.startswith("OIDC"))


def test_the_view_names_discovery_client_id_and_redirect_uris() -> None:
    view = onboarding_for(make_client(), issuer=ISSUER)
    assert view.discovery_url == DISCOVERY == discovery_url(ISSUER + "/")
    assert view.client_id == "tax-office-7"
    assert view.redirect_uris == [
        "https://tax.example/cb?tenant=7",
        "https://tax.example/oidc/callback",
    ]
    assert view.post_logout_redirect_uris == ["https://tax.example/"]
    assert view.backchannel_logout_uri == "https://api.tax.example/logout?tenant=7"
    assert view.frontchannel_logout_uri is None
    assert view.scope == "openid profile email"
    assert [s.language for s in view.snippets] == ["javascript", "python", "apache"]


@pytest.mark.parametrize("require_pkce", [True, False])
def test_the_mod_auth_openidc_snippet_has_the_required_directives(require_pkce: bool) -> None:
    apache = _snippet(
        onboarding_for(make_client(require_pkce=require_pkce), issuer=ISSUER), "apache"
    )
    directives = _directives(apache)
    assert directives["OIDCProviderMetadataURL"] == DISCOVERY
    assert directives["OIDCClientID"] == "tax-office-7"
    # The first redirect URI without a query: the module serves it by its path.
    assert directives["OIDCRedirectURI"] == "https://tax.example/oidc/callback"
    assert directives["OIDCPKCEMethod"] == "S256"
    assert directives["OIDCScope"] == '"openid profile email"'
    assert directives["OIDCClientSecret"] == "${" + SECRET_VARIABLE + "}"
    assert directives["OIDCCryptoPassphrase"].startswith("${")
    assert "<Location /oidc>" in apache and "AuthType openid-connect" in apache
    assert apache.count("<Location") == apache.count("</Location>") == 1


def test_a_public_app_gets_no_secret_anywhere() -> None:
    view = onboarding_for(make_client(is_public=True, secret_digest=None), issuer=ISSUER)
    apache = _directives(_snippet(view, "apache"))
    assert "OIDCClientSecret" not in apache
    assert apache["OIDCProviderTokenEndpointAuth"] == "none"
    assert "client.None()" in _snippet(view, "javascript")
    python = _snippet(view, "python")
    assert "client_secret=" not in python and "'none'" in python
    for snippet in view.snippets:
        assert SECRET_VARIABLE not in snippet.text


def test_the_python_snippet_compiles_with_the_values() -> None:
    python = _snippet(onboarding_for(make_client(), issuer=ISSUER), "python")
    compile(python, "authlib_snippet.py", "exec")
    assert f"server_metadata_url={DISCOVERY!r}" in python
    assert "client_id='tax-office-7'" in python
    assert f'client_secret=os.environ["{SECRET_VARIABLE}"]' in python
    assert "'code_challenge_method': 'S256'" in python.replace('"', "'")
    assert "'scope': 'openid profile email'" in python.replace('"', "'")


def test_the_node_snippet_has_the_values() -> None:
    node = _snippet(onboarding_for(make_client(), issuer=ISSUER), "javascript")
    assert f'new URL("{DISCOVERY}")' in node
    assert '"tax-office-7"' in node
    assert 'id_token_signed_response_alg: "ES256"' in node
    assert f"process.env.{SECRET_VARIABLE}" in node
    assert 'code_challenge_method: "S256"' in node
    assert 'redirect_uri: "https://tax.example/cb?tenant=7"' in node


def test_a_client_credentials_app_gets_the_token_request_only() -> None:
    client = make_client(
        grant_types=["client_credentials"], redirect_uris=[], scopes=["admin:audit"]
    )
    view = onboarding_for(client, issuer=ISSUER)
    assert [s.language for s in view.snippets] == ["javascript", "python"]
    assert view.scope == "admin:audit"
    assert "clientCredentialsGrant" in _snippet(view, "javascript")
    python = _snippet(view, "python")
    compile(python, "authlib_snippet.py", "exec")
    assert 'grant_type="client_credentials"' in python


def test_hostile_values_stay_inside_their_literals(tmp_path: Path) -> None:
    # Registration refuses such URIs; the snippets do not rely on it.
    client = make_client(redirect_uris=["https://tax.example/cb?x=\"');\\"])
    view = onboarding_for(client, issuer=ISSUER)
    compile(_snippet(view, "python"), "authlib_snippet.py", "exec")
    _node_check(_snippet(view, "javascript"), tmp_path)


@pytest.mark.parametrize("grants", [["authorization_code"], ["client_credentials"]])
def test_the_node_snippets_are_valid_javascript_modules(grants: list[str], tmp_path: Path) -> None:
    client = make_client(grant_types=grants)
    _node_check(_snippet(onboarding_for(client, issuer=ISSUER), "javascript"), tmp_path)


def _node_check(source: str, directory: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    path = directory / "snippet.mjs"  # a module: top-level await is allowed
    path.write_text(source, encoding="utf-8")
    checked = subprocess.run(
        [node, "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
