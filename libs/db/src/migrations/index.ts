import { CreateAccounts1763800000000 } from './1763800000000-create-accounts.migration';
import { CreateImages1763800100000 } from './1763800100000-create-images.migration';

/** Every migration, in order. Listed explicitly so builds and tests need no file globbing. */
export const MIGRATIONS = [CreateAccounts1763800000000, CreateImages1763800100000];
