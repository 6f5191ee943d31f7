/** The `pixmill` command's exit codes (README: "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The API answered with a problem (its code is printed), or the network failed. */
  failed: 1,
  /** Bad usage: unknown option, missing argument, a file that cannot be read. */
  usage: 2,
  /** Not logged in, or the session ended: run `pixmill login`. */
  auth: 3,
  /** A job failed or was canceled, or `--wait` ran out of time. */
  job: 4,
} as const;
