import { ImageEntity } from './image.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { UploadEntity } from './upload.entity';
import { UserEntity } from './user.entity';

export type { GpsPosition } from './image.entity';
export { ImageEntity, RefreshTokenEntity, UploadEntity, UserEntity };
export const ENTITIES = [UserEntity, RefreshTokenEntity, ImageEntity, UploadEntity];
