import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CachedRead, ReadCache } from '../cache/read-cache.service';
import { returnedRows } from '../sql.util';

/** A named spec of one account (SPEC §8). */
export interface PresetRow {
  name: string;
  spec: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** The account settings the public /i/ route reads on every request. */
export interface PublicSettings {
  publicUrls: 'any' | 'presets-only';
}

const COLUMNS = `name, spec, created_at AS "createdAt", updated_at AS "updatedAt"`;

function revive(row: PresetRow): PresetRow {
  row.createdAt = new Date(row.createdAt);
  row.updatedAt = new Date(row.updatedAt);
  return row;
}

@Injectable()
export class PresetRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {}

  /** Inserts a preset; null when the account has one of that name already. */
  async create(userId: string, name: string, spec: Record<string, unknown>): Promise<PresetRow | null> {
    const rows: PresetRow[] = await this.ds.query(
      `INSERT INTO presets (user_id, name, spec) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [userId, name, JSON.stringify(spec)],
    );
    return rows[0] ?? null;
  }

  list(userId: string): Promise<PresetRow[]> {
    return this.ds.query(`SELECT ${COLUMNS} FROM presets WHERE user_id = $1 ORDER BY name`, [userId]);
  }

  /** Through the read cache (public URLs name presets on every request); PUT and DELETE invalidate it. */
  async find(userId: string, name: string): Promise<PresetRow | null> {
    const [row] = await this.cache.readAll([this.cachedRead(userId, name)] as const);
    return row;
  }

  /** `find` as a read-cache read, to batch with others (`ReadCache.readAll`). */
  cachedRead(userId: string, name: string): CachedRead<PresetRow> {
    return {
      kind: 'preset',
      id: `${userId}:${name}`,
      load: async () => ((await this.ds.query(`SELECT ${COLUMNS} FROM presets WHERE user_id = $1 AND name = $2`, [userId, name])) as PresetRow[])[0] ?? null,
      revive,
    };
  }

  /** Replaces a preset's spec; null when there is none of that name. */
  async replace(userId: string, name: string, spec: Record<string, unknown>): Promise<PresetRow | null> {
    const res = await this.ds.query(
      `UPDATE presets SET spec = $3, updated_at = now() WHERE user_id = $1 AND name = $2 RETURNING ${COLUMNS}`,
      [userId, name, JSON.stringify(spec)],
    );
    await this.cache.invalidate('preset', [`${userId}:${name}`]);
    return (returnedRows(res) as PresetRow[])[0] ?? null;
  }

  async delete(userId: string, name: string): Promise<boolean> {
    const res = await this.ds.query(`DELETE FROM presets WHERE user_id = $1 AND name = $2 RETURNING name`, [userId, name]);
    await this.cache.invalidate('preset', [`${userId}:${name}`]);
    return returnedRows(res).length > 0;
  }

  /** The account's public URL setting, through the read cache. */
  async publicSettings(userId: string): Promise<PublicSettings | null> {
    const [settings] = await this.cache.readAll([this.publicSettingsRead(userId)] as const);
    return settings;
  }

  /** `publicSettings` as a read-cache read, to batch with others (`ReadCache.readAll`). */
  publicSettingsRead(userId: string): CachedRead<PublicSettings> {
    return {
      kind: 'public-settings',
      id: userId,
      load: async () => ((await this.ds.query(`SELECT public_urls AS "publicUrls" FROM users WHERE id = $1`, [userId])) as PublicSettings[])[0] ?? null,
      revive: (r) => r,
    };
  }

  async setPublicUrls(userId: string, value: PublicSettings['publicUrls']): Promise<void> {
    await this.ds.query(`UPDATE users SET public_urls = $2 WHERE id = $1`, [userId, value]);
    await this.cache.invalidate('public-settings', [userId]);
  }
}
