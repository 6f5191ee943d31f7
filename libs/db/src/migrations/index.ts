import { CreateAccounts1763800000000 } from './1763800000000-create-accounts.migration';
import { CreateImages1763800100000 } from './1763800100000-create-images.migration';
import { CreateJobs1763800200000 } from './1763800200000-create-jobs.migration';
import { CreateWebhooks1763800300000 } from './1763800300000-create-webhooks.migration';
import { AddJobDispatch1763800400000 } from './1763800400000-add-job-dispatch.migration';
import { CreateDispatchFunction1763800500000 } from './1763800500000-create-dispatch-function.migration';
import { AddUploadOptions1763800600000 } from './1763800600000-add-upload-options.migration';
import { AddImageThumbnailError1763800700000 } from './1763800700000-add-image-thumbnail-error.migration';
import { JobWebhookUrls1763800800000 } from './1763800800000-job-webhook-urls.migration';
import { KeepCanceledJobsOfDeletedImages1763800900000 } from './1763800900000-keep-canceled-jobs-of-deleted-images.migration';
import { WebhookMessageRequestId1763801000000 } from './1763801000000-webhook-message-request-id.migration';
import { JobLifecycle1763801100000 } from './1763801100000-job-lifecycle.migration';
import { SubmitJobFunction1763801200000 } from './1763801200000-submit-job-function.migration';
import { CreateUrlKeys1764100000000 } from './1764100000000-create-url-keys.migration';
import { CreatePresets1764100100000 } from './1764100100000-create-presets.migration';
import { AccountTokens1764300000000 } from './1764300000000-account-tokens.migration';
import { AddImagePlaceholder1764500000000 } from './1764500000000-add-image-placeholder.migration';
import { CreateApiKeys1764600000000 } from './1764600000000-create-api-keys.migration';
import { JobRunLease1764640000000 } from './1764640000000-job-run-lease.migration';
import { WebhookMessageTraceparent1764700000000 } from './1764700000000-webhook-message-traceparent.migration';
import { AddUserRole1764760000000 } from './1764760000000-add-user-role.migration';
import { AddImageHasAlpha1764780000000 } from './1764780000000-add-image-has-alpha.migration';

/** Every migration, in order. Listed explicitly so builds and tests need no file globbing. */
export const MIGRATIONS = [
  CreateAccounts1763800000000,
  CreateImages1763800100000,
  CreateJobs1763800200000,
  CreateWebhooks1763800300000,
  AddJobDispatch1763800400000,
  CreateDispatchFunction1763800500000,
  AddUploadOptions1763800600000,
  AddImageThumbnailError1763800700000,
  JobWebhookUrls1763800800000,
  KeepCanceledJobsOfDeletedImages1763800900000,
  WebhookMessageRequestId1763801000000,
  JobLifecycle1763801100000,
  SubmitJobFunction1763801200000,
  CreateUrlKeys1764100000000,
  CreatePresets1764100100000,
  AccountTokens1764300000000,
  AddImagePlaceholder1764500000000,
  CreateApiKeys1764600000000,
  JobRunLease1764640000000,
  WebhookMessageTraceparent1764700000000,
  AddUserRole1764760000000,
  AddImageHasAlpha1764780000000,
];
