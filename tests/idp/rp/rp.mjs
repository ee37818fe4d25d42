#!/usr/bin/env node
// An independent, strict relying party built on npm openid-client v6. The Python tests drive it
// as a subprocess so that a client we did not write checks discovery, state, iss (RFC 9207),
// PKCE, the ID token signature (against jwks_uri) and claims, and the UserInfo subject.
//
//   node rp.mjs start  ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
//     -> {"authorization_url", "code_verifier", "state", "nonce"}
//   node rp.mjs finish ISSUER CLIENT_ID CLIENT_SECRET CALLBACK_URL CODE_VERIFIER STATE NONCE
//     -> {"claims", "userinfo"}
//
// Output is one JSON line on stdout; any failure goes to stderr with a non-zero exit code.
import * as client from "openid-client";

const SCOPE = "openid profile email";

async function configure(issuer, clientId, clientSecret) {
  // enableNonRepudiationChecks: verify the ID token signature too (off by default).
  // allowInsecureRequests: the test issuer is http://localhost.
  return client.discovery(
    new URL(issuer),
    clientId,
    clientSecret,
    client.ClientSecretBasic(clientSecret),
    { execute: [client.enableNonRepudiationChecks, client.allowInsecureRequests] },
  );
}

async function start([issuer, clientId, clientSecret, redirectUri]) {
  const config = await configure(issuer, clientId, clientSecret);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { authorization_url: authorizationUrl.href, code_verifier: codeVerifier, state, nonce };
}

async function finish([issuer, clientId, clientSecret, callbackUrl, codeVerifier, state, nonce]) {
  const config = await configure(issuer, clientId, clientSecret);
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  return { claims, userinfo };
}

const COMMANDS = { start: [start, 4], finish: [finish, 7] };

async function main(argv) {
  const [name, ...args] = argv;
  const command = COMMANDS[name];
  if (!command || args.length !== command[1]) {
    process.stderr.write(
      "usage: rp.mjs start ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI\n" +
        "       rp.mjs finish ISSUER CLIENT_ID CLIENT_SECRET CALLBACK_URL CODE_VERIFIER " +
        "STATE NONCE\n",
    );
    return 2;
  }
  const result = await command[0](args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

function describeCause(cause) {
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof Error) return cause.message;
  if (typeof cause !== "object") return String(cause);
  // Plain objects (e.g. {claim, expected, body}) serialise; Responses and the like do not.
  return Object.fromEntries(
    Object.entries(cause).filter(([, value]) => value === null || typeof value !== "object"),
  );
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Name, code and cause tell the test which check failed (e.g. OAUTH_JWT_CLAIM_COMPARISON_FAILED).
  const detail = {
    name: error?.name,
    code: error?.code,
    message: error?.message,
    error: error?.error,
    error_description: error?.error_description,
    cause: describeCause(error?.cause),
  };
  process.stderr.write(`${JSON.stringify(detail)}\n`);
  process.exitCode = 1;
}
