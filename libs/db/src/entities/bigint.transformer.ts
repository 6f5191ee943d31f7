import { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint arrives as a string; byte counts fit safely in a JS number (< 2^53). */
export const bigintNumber: ValueTransformer = {
  to: (v?: number | null) => v,
  from: (v?: string | null) => (v === null || v === undefined ? v : Number(v)),
};
