// Shared modules: NixOS modules applied to every host that carries one of their tags,
// versioned like host configs (append-only text, optimistic saves).
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { isUniqueViolation } from '@/lib/db/errors';
import { db, type Tx } from '@/lib/db/client';
import { modules, moduleVersions, users, type SharedModule } from '@/lib/db/schema';
import type { TCreateModule, TSaveModule } from './schemas';
import { assertNixSyntax } from './validate';


const latest = sql<number>`(select max(${moduleVersions.version}) from ${moduleVersions} where ${moduleVersions.moduleId} = ${modules.id})::int`;

export async function listModules(caller: Caller) {
  const orgId = caller.org.id;
  const rows = await db()
    .select({ module: modules, version: latest })
    .from(modules)
    .where(and(eq(modules.orgId, orgId), isNull(modules.retiredAt)))
    .orderBy(modules.name);
  return rows.map((r) => ({ name: r.module.name, tags: r.module.tags, version: r.version, createdAt: r.module.createdAt.toISOString() }));
}

async function findModule(caller: Caller, name: string, tx: Tx = db()): Promise<SharedModule> {
  const [row] = await tx
    .select()
    .from(modules)
    .where(and(eq(modules.orgId, caller.org.id), eq(modules.name, name), isNull(modules.retiredAt)));
  if (!row) throw new AppError('not_found', `No shared module named "${name}"`);
  return row;
}

async function versionOf(tx: Tx, moduleId: string, version?: number) {
  const [row] = await tx
    .select({ v: moduleVersions, author: users.email })
    .from(moduleVersions)
    .leftJoin(users, eq(users.id, moduleVersions.authorId))
    .where(version ? and(eq(moduleVersions.moduleId, moduleId), eq(moduleVersions.version, version)) : eq(moduleVersions.moduleId, moduleId))
    .orderBy(desc(moduleVersions.version))
    .limit(1);
  return row;
}

export async function getModule(caller: Caller, name: string, version?: number) {
  const mod = await findModule(caller, name);
  const row = await versionOf(db(), mod.id, version);
  if (!row) throw new AppError('not_found', `Module "${name}" has no version ${version}`);
  const history = await db()
    .select({ version: moduleVersions.version, message: moduleVersions.message, createdAt: moduleVersions.createdAt, author: users.email })
    .from(moduleVersions)
    .leftJoin(users, eq(users.id, moduleVersions.authorId))
    .where(eq(moduleVersions.moduleId, mod.id))
    .orderBy(desc(moduleVersions.version));
  return {
    name: mod.name,
    tags: mod.tags,
    version: row.v.version,
    text: row.v.text,
    author: row.author,
    message: row.v.message,
    createdAt: row.v.createdAt.toISOString(),
    history: history.map((h) => ({ ...h, createdAt: h.createdAt.toISOString() })),
  };
}

export async function createModule(caller: Caller, input: TCreateModule) {
  await assertNixSyntax(input.text, 'shared module');
  try {
    return await db().transaction(async (tx) => {
      const [mod] = await tx.insert(modules).values({ orgId: caller.org.id, name: input.name, tags: input.tags }).returning();
      if (!mod) throw new Error('insert returned nothing');
      await tx.insert(moduleVersions).values({ moduleId: mod.id, version: 1, text: input.text, authorId: caller.user.id, message: input.message ?? 'Module created' });
      await recordAudit(tx, caller, { action: 'module.create', objectType: 'module', objectId: mod.id, after: { name: mod.name, tags: mod.tags } });
      return { name: mod.name, version: 1 };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `A shared module named "${input.name}" already exists`);
    throw error;
  }
}

export async function saveModule(caller: Caller, name: string, input: TSaveModule) {
  if (input.text !== undefined) await assertNixSyntax(input.text, 'shared module');
  return db().transaction(async (tx) => {
    const mod = await findModule(caller, name, tx);
    await tx.select({ id: modules.id }).from(modules).where(eq(modules.id, mod.id)).for('update');
    const current = await versionOf(tx, mod.id);
    if (!current) throw new Error(`module ${mod.id} has no version`);
    if (input.baseVersion !== current.v.version) {
      throw new AppError('conflict', `Version ${current.v.version} was saved by ${current.author ?? 'someone'} after the version ${input.baseVersion} you edited`, {
        baseVersion: input.baseVersion,
        latest: { version: current.v.version, text: current.v.text, author: current.author, createdAt: current.v.createdAt.toISOString() },
        yours: { text: input.text ?? current.v.text },
      });
    }
    let version = current.v.version;
    if (input.text !== undefined && input.text !== current.v.text) {
      version += 1;
      await tx.insert(moduleVersions).values({ moduleId: mod.id, version, text: input.text, authorId: caller.user.id, message: input.message ?? '' });
    }
    const tagsChanged = input.tags !== undefined && JSON.stringify(input.tags) !== JSON.stringify(mod.tags);
    if (tagsChanged) await tx.update(modules).set({ tags: input.tags }).where(eq(modules.id, mod.id));
    if (version !== current.v.version || tagsChanged) {
      await recordAudit(tx, caller, {
        action: 'module.save',
        objectType: 'module',
        objectId: mod.id,
        before: { version: current.v.version, tags: mod.tags },
        after: { version, tags: input.tags ?? mod.tags, message: input.message ?? '' },
      });
    }
    return { name: mod.name, version };
  });
}

export async function retireModule(caller: Caller, name: string) {
  await db().transaction(async (tx) => {
    const mod = await findModule(caller, name, tx);
    await tx.update(modules).set({ retiredAt: new Date() }).where(eq(modules.id, mod.id));
    await recordAudit(tx, caller, { action: 'module.retire', objectType: 'module', objectId: mod.id, before: { name: mod.name, tags: mod.tags } });
  });
}

/** The latest version of every active shared module whose tags meet the host's. */
export async function modulesForTags(orgId: string, tags: string[]) {
  if (tags.length === 0) return [];
  const rows = await db()
    .select({ name: modules.name, tags: modules.tags, version: moduleVersions.version, text: moduleVersions.text })
    .from(modules)
    .innerJoin(moduleVersions, eq(moduleVersions.moduleId, modules.id))
    .where(
      and(
        eq(modules.orgId, orgId),
        isNull(modules.retiredAt),
        sql`${modules.tags} && ${sql.param(tags)}::text[]`,
        sql`${moduleVersions.version} = (select max(v.version) from module_versions v where v.module_id = ${modules.id})`,
      ),
    )
    .orderBy(modules.name);
  return rows;
}
