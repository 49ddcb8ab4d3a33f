export const E2E_PORT = Number(process.env.E2E_PORT ?? 3100);
export const ADMIN = { email: 'admin@e2e.example.com', password: 'e2e-admin-password-1' };
// A real OpenID Connect provider (oidc-provider) started by the OIDC test on this port.
export const OIDC = { port: Number(process.env.E2E_OIDC_PORT ?? 3199), clientId: 'flotilla-e2e', clientSecret: 'e2e-oidc-client-secret-1234567890', name: 'Test SSO' };
