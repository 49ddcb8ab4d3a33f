import { describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, effectivePermissions, ROLE_PERMISSIONS, roleAllows } from './permissions';

describe('permission table', () => {
  it('gives admins everything and requesters no fleet-wide access', () => {
    expect(ROLE_PERMISSIONS.admin).toEqual(ALL_PERMISSIONS);
    expect(roleAllows('requester', 'fleet.read')).toBe(false);
    expect(roleAllows('viewer', 'hosts.write')).toBe(false);
    expect(roleAllows('operator', 'users.manage')).toBe(false);
  });

  it('narrows a role by token scopes and never widens it', () => {
    expect([...effectivePermissions('viewer', ['fleet.read', 'users.manage'])]).toEqual(['fleet.read']);
    expect(effectivePermissions('admin', []).size).toBe(0);
    expect(effectivePermissions('operator').has('deployments.write')).toBe(true);
  });
});
