import { DerivativeEntity } from './derivative.entity';
import { ImageEntity } from './image.entity';
import { JobEntity } from './job.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { UploadEntity } from './upload.entity';
import { UserEntity } from './user.entity';

export type { GpsPosition, ImagePlaceholderColumn } from './image.entity';
export { DerivativeEntity, ImageEntity, JobEntity, RefreshTokenEntity, UploadEntity, UserEntity };
export { FINAL_JOB_STATUSES } from './job.entity';
export { USER_ROLES } from './user.entity';
export type { UserRole } from './user.entity';
export type { JobStatus } from './job.entity';
export const ENTITIES = [UserEntity, RefreshTokenEntity, ImageEntity, UploadEntity, DerivativeEntity, JobEntity];
