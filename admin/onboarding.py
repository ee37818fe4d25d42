"""What an agency needs to connect its app: the discovery URL, its client_id, redirect and logout
URIs, and configuration snippets for openid-client (Node.js), Authlib (Python) and Apache
mod_auth_openidc. Pure functions of the registration: the secret is never in them (only its
digest is kept); the snippets read it from an environment variable instead."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from idp.models import Client
from idp.protocol.claims import SUPPORTED_SCOPES

# Where every snippet expects the secret the operator handed over once.
SECRET_VARIABLE = "GATEWAY_CLIENT_SECRET"  # noqa: S105  (a variable's name, not a secret)
PASSPHRASE_VARIABLE = "OIDC_CRYPTO_PASSPHRASE"  # noqa: S105  (the same)


@dataclass(frozen=True)
class Snippet:
    tool: str  # the library or server it configures
    language: str  # javascript, python or apache
    text: str


@dataclass(frozen=True)
class Onboarding:
    client_id: str
    discovery_url: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    frontchannel_logout_uri: str | None
    scope: str
    snippets: list[Snippet]


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 section 4: the issuer with the well-known path appended."""
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def onboarding_for(client: Client, *, issuer: str) -> Onboarding:
    """The onboarding view of one app. Sign-in apps get the authorization code flow with PKCE
    (S256: RFC 9700 2.1.1 recommends it for every client); an app with client_credentials
    alone gets the token request, and no web server snippet."""
    url = discovery_url(issuer)
    signs_in = "authorization_code" in client.grant_types
    # Citizens' scopes only: administrators' scopes belong to client_credentials tokens.
    scopes = [s for s in client.scopes if s in SUPPORTED_SCOPES] if signs_in else client.scopes
    scope = " ".join(scopes)
    if signs_in:
        redirect_uri = _served_redirect_uri(client.redirect_uris)
        snippets = [
            Snippet("openid-client (Node.js)", "javascript", _node_sign_in(client, url, scope)),
            Snippet("Authlib (Python)", "python", _authlib_sign_in(client, url, scope)),
            Snippet(
                "Apache mod_auth_openidc",
                "apache",
                _mod_auth_openidc(client, url, scope, redirect_uri),
            ),
        ]
    else:
        snippets = [
            Snippet("openid-client (Node.js)", "javascript", _node_machine(client, url, scope)),
            Snippet("Authlib (Python)", "python", _authlib_machine(client, url, scope)),
        ]
    return Onboarding(
        client_id=client.client_id,
        discovery_url=url,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        backchannel_logout_uri=client.backchannel_logout_uri,
        frontchannel_logout_uri=client.frontchannel_logout_uri,
        scope=scope,
        snippets=snippets,
    )


def _served_redirect_uri(redirect_uris: list[str]) -> str:
    """The redirect URI a web server module should serve: the first without a query (module
    handlers match on the path), else the first."""
    plain = [uri for uri in redirect_uris if not urlsplit(uri).query]
    return (plain or redirect_uris)[0]


def _js(value: str) -> str:
    """A JavaScript string literal (JSON's string syntax is valid JavaScript)."""
    return json.dumps(value)


def _secret_note(comment: str) -> str:
    return (
        f"{comment} The client secret was shown once, when it was issued: keep it out of the "
        f"code,\n{comment} in the environment variable {SECRET_VARIABLE}.\n"
    )


def _node_sign_in(client: Client, url: str, scope: str) -> str:
    redirect_uri = _js(client.redirect_uris[0])
    authentication = (
        "client.None()"
        if client.is_public
        else f"client.ClientSecretBasic(process.env.{SECRET_VARIABLE})"
    )
    return (
        f"{_secret_note('//') if not client.is_public else ''}"
        'import * as client from "openid-client";\n'
        "\n"
        "const config = await client.discovery(\n"
        f"  new URL({_js(url)}),\n"
        f"  {_js(client.client_id)},\n"
        f"  {{ id_token_signed_response_alg: {_js(client.id_token_signed_response_alg)} }},\n"
        f"  {authentication},\n"
        ");\n"
        "\n"
        "// Sign-in: keep code_verifier, state and nonce in the user's session.\n"
        "const code_verifier = client.randomPKCECodeVerifier();\n"
        "const state = client.randomState();\n"
        "const nonce = client.randomNonce();\n"
        "const signInUrl = client.buildAuthorizationUrl(config, {\n"
        f"  redirect_uri: {redirect_uri},\n"
        f"  scope: {_js(scope)},\n"
        "  code_challenge: await client.calculatePKCECodeChallenge(code_verifier),\n"
        '  code_challenge_method: "S256",\n'
        "  state,\n"
        "  nonce,\n"
        "});\n"
        "\n"
        "// At the redirect URI: currentUrl is the URL the browser arrived at.\n"
        "const tokens = await client.authorizationCodeGrant(config, currentUrl, {\n"
        "  pkceCodeVerifier: code_verifier,\n"
        "  expectedState: state,\n"
        "  expectedNonce: nonce,\n"
        "});\n"
        "const claims = tokens.claims();\n"
    )


def _node_machine(client: Client, url: str, scope: str) -> str:
    return (
        f"{_secret_note('//')}"
        'import * as client from "openid-client";\n'
        "\n"
        "const config = await client.discovery(\n"
        f"  new URL({_js(url)}),\n"
        f"  {_js(client.client_id)},\n"
        "  undefined,\n"
        f"  client.ClientSecretBasic(process.env.{SECRET_VARIABLE}),\n"
        ");\n"
        f"const tokens = await client.clientCredentialsGrant(config, {{ scope: {_js(scope)} }});\n"
    )


def _authlib_sign_in(client: Client, url: str, scope: str) -> str:
    auth_method = "none" if client.is_public else "client_secret_basic"
    secret_line = (
        "" if client.is_public else f'    client_secret=os.environ["{SECRET_VARIABLE}"],\n'
    )
    return (
        f"{_secret_note('#') if not client.is_public else ''}"
        "import os\n"
        "\n"
        "from authlib.integrations.flask_client import OAuth\n"
        "\n"
        "oauth = OAuth(app)  # app: your Flask application\n"
        "oauth.register(\n"
        '    name="gateway",\n'
        f"    server_metadata_url={url!r},\n"
        f"    client_id={client.client_id!r},\n"
        f"{secret_line}"
        "    client_kwargs={\n"
        f'        "scope": {scope!r},\n'
        '        "code_challenge_method": "S256",\n'
        f'        "token_endpoint_auth_method": {auth_method!r},\n'
        "    },\n"
        ")\n"
        "\n"
        "\n"
        "# Sign-in (in a view):\n"
        "#     return oauth.gateway.authorize_redirect("
        f"{client.redirect_uris[0]!r})\n"
        "# At the redirect URI:\n"
        "#     token = oauth.gateway.authorize_access_token()\n"
        '#     claims = token["userinfo"]\n'
    )


def _authlib_machine(client: Client, url: str, scope: str) -> str:
    return (
        f"{_secret_note('#')}"
        "import os\n"
        "\n"
        "import requests\n"
        "from authlib.integrations.requests_client import OAuth2Session\n"
        "\n"
        f"metadata = requests.get({url!r}, timeout=10).json()\n"
        "session = OAuth2Session(\n"
        f"    client_id={client.client_id!r},\n"
        f'    client_secret=os.environ["{SECRET_VARIABLE}"],\n'
        f"    scope={scope!r},\n"
        ")\n"
        'token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")\n'
    )


def _mod_auth_openidc(client: Client, url: str, scope: str, redirect_uri: str) -> str:
    path = urlsplit(redirect_uri).path or "/"
    protected = path.rsplit("/", 1)[0] or "/"
    if client.is_public:
        credentials = "OIDCProviderTokenEndpointAuth none\n"
    else:
        credentials = (
            f"{_secret_note('#')}"
            "OIDCProviderTokenEndpointAuth client_secret_basic\n"
            f"OIDCClientSecret ${{{SECRET_VARIABLE}}}\n"
        )
    return (
        f"OIDCProviderMetadataURL {url}\n"
        f"OIDCClientID {client.client_id}\n"
        f"{credentials}"
        "# A path below the protected location; mod_auth_openidc answers it itself.\n"
        f"OIDCRedirectURI {redirect_uri}\n"
        f'OIDCScope "{scope}"\n'
        "OIDCPKCEMethod S256\n"
        "# Encrypts the session cookie: a long random value of your own, the same on every node.\n"
        f"OIDCCryptoPassphrase ${{{PASSPHRASE_VARIABLE}}}\n"
        "\n"
        f"<Location {protected}>\n"
        "    AuthType openid-connect\n"
        "    Require valid-user\n"
        "</Location>\n"
    )
