/** Eager specs per upload: each is a render, so the list is kept short. */
export const MAX_EAGER = 10;

/** `wait` of GET /v1/images/{id}/transform: seconds to hold the request for the render (SPEC §3). */
export const DEFAULT_TRANSFORM_WAIT_SECONDS = 10;
export const MAX_TRANSFORM_WAIT_SECONDS = 30;
