import type { FailOnOptions } from 'sharp';

/**
 * libvips `failOn` level used for every decode of user input (probe check,
 * verifyDecodes, render). See libs/imaging/DECODE-POLICY.md for the corpus
 * run behind this choice.
 */
export const DECODE_FAIL_ON: FailOnOptions = 'error';

/** Wall-clock cap for one decode/render pipeline, so a pathological file cannot pin a worker. */
export const DEFAULT_PIPELINE_TIMEOUT_SECONDS = 60;
