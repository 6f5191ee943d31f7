import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { PlanName } from '@pixmill/config';
import { bigintNumber } from './bigint.transformer';

export type UserRole = 'user' | 'admin';
export const USER_ROLES: readonly UserRole[] = ['user', 'admin'];

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored lower-cased; unique. */
  @Column({ type: 'text' })
  email: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Column({ type: 'text', default: 'free' })
  plan: PlanName;

  /** Bytes of originals and derivatives this user holds, including reservations of uploads in flight. */
  @Column({ name: 'storage_bytes', type: 'bigint', default: 0, transformer: bigintNumber })
  storageBytes: number;

  @Column({ name: 'transforms_today', type: 'int', default: 0 })
  transformsToday: number;

  @Column({ name: 'transforms_day', type: 'date', nullable: true })
  transformsDay: string | null;

  /** What the account's public /i/ URLs may ask for: any spec, or presets only (SPEC §8). */
  @Column({ name: 'public_urls', type: 'text', default: 'any' })
  publicUrls: 'any' | 'presets-only';

  /** `admin` opens the queue dashboard (docs/decisions/059); set with `npm run admin -- set-role`. */
  @Column({ type: 'text', default: 'user' })
  role: UserRole;

  /** When the account's email address was verified; null until then. */
  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
