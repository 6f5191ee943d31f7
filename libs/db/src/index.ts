export * from './entities';
export * from './data-source.factory';
export * from './db.module';
export * from './repositories/user.repository';
export * from './repositories/refresh-token.repository';
export * from './sql.util';
