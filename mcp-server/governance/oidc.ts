import { and, eq } from 'drizzle-orm';
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Db } from '../../db/create-db.js';
import { externalIdentities } from '../../db/schema/index.js';

/**
 * Sign-in through an organisation's identity provider (Entra ID, Okta, Keycloak, login.gov): HTTP
 * requests may carry an OIDC access or ID token, validated against the issuer's published keys. The
 * token's subject must be linked to a principal (`dataops principal link`): clearance and roles come
 * from the catalog, never from claims a token carries.
 */

export interface OidcConfig {
  issuer: string;
  /** The audience tokens must be issued for (this server's client id or resource URL). */
  audience: string;
  /** Where the signing keys are; found through the issuer's discovery document when not given. */
  jwksUrl?: string;
}

export type OidcResult = { principalId: string } | { problem: string };

export type OidcVerifier = (token: string) => Promise<OidcResult>;

const allowedAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** A JWT is three base64url parts; our own API tokens are one opaque string. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

export function createOidcVerifier(config: OidcConfig, db: Db): OidcVerifier {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const signingKeys = () => {
    keys ??= discoverJwks(config).then((url) => createRemoteJWKSet(url));
    // A failed discovery is retried on the next request rather than remembered.
    keys.catch(() => {
      keys = undefined;
    });
    return keys;
  };
  return async (token) => {
    let subject: string;
    try {
      const { payload } = await jwtVerify(token, await signingKeys(), {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: allowedAlgorithms,
        clockTolerance: 30,
      });
      if (!payload.sub) return { problem: 'the identity token has no subject (sub)' };
      subject = payload.sub;
    } catch (error) {
      return { problem: describeJwtError(error, config) };
    }
    const [linked] = await db
      .select({ principalId: externalIdentities.principalId })
      .from(externalIdentities)
      .where(and(eq(externalIdentities.provider, config.issuer), eq(externalIdentities.subject, subject)));
    if (!linked) {
      return {
        problem: `the identity ${subject} from ${config.issuer} is not linked to a principal: an admin links it with \`dataops principal link <principal> --subject ${subject}\``,
      };
    }
    return { principalId: linked.principalId };
  };
}

async function discoverJwks(config: OidcConfig): Promise<URL> {
  if (config.jwksUrl) return new URL(config.jwksUrl);
  const discovery = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(discovery, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${discovery} answered ${response.status}`);
  const document = (await response.json()) as { jwks_uri?: string };
  if (!document.jwks_uri) throw new Error(`${discovery} names no jwks_uri`);
  return new URL(document.jwks_uri);
}

function describeJwtError(error: unknown, config: OidcConfig): string {
  if (error instanceof errors.JWTExpired) return 'the identity token has expired: sign in again';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `the identity token was not issued by ${config.issuer}`;
    if (error.claim === 'aud') return `the identity token is not meant for this server (audience ${config.audience})`;
    if (error.claim === 'nbf') return 'the identity token is not valid yet';
    return `the identity token's ${error.claim} claim is not acceptable`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return `the identity token is not signed by a key of ${config.issuer}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'the identity token uses a signing algorithm this server does not accept';
  if (error instanceof errors.JOSEError) return 'the identity token is malformed';
  return `the identity provider's keys could not be fetched (${(error as Error).message}): try again later`;
}
