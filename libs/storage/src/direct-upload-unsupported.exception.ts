import { DomainException } from '@pixmill/common';

/** Presigned direct uploads exist only with STORAGE_DRIVER=s3; the local driver has no upload endpoint of its own. */
export class DirectUploadUnsupportedException extends DomainException {
  constructor() {
    super('unsupported_operation', 'Direct uploads need the S3 storage driver.');
  }
}
