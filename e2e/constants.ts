export const E2E_PORT = Number(process.env.E2E_PORT ?? 3100);
export const ADMIN = { email: 'admin@e2e.example.com', password: 'e2e-admin-password-1' };
