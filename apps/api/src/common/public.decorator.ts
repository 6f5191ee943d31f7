import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'pixmill:isPublic';
/** Marks a route that needs no access token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
