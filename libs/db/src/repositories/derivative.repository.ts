import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CachedRead, ReadCache } from '../cache/read-cache.service';
import { DerivativeEntity } from '../entities';

/** JSON keeps dates as strings; a cached derivative gets its Date back. */
function reviveDerivative(row: DerivativeEntity): DerivativeEntity {
  row.createdAt = new Date(row.createdAt);
  return row;
}

/**
 * Derivative rows never change after they are recorded (by the job's success statement,
 * JobRepository.recordSuccess); they go only with their image (cascade).
 */
@Injectable()
export class DerivativeRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly cache: ReadCache,
  ) {}

  find(imageId: string, specHash: string): Promise<DerivativeEntity | null> {
    return this.ds.getRepository(DerivativeEntity).findOneBy({ imageId, specHash });
  }

  /**
   * Through the read cache with no invalidation: the row is immutable, and it is only read
   * through a job that points at it; deleting the image removes (and invalidates) those jobs
   * in the same transaction, so a cached derivative of a deleted image is never reached.
   * Inside a caller's transaction (`em`) it reads PostgreSQL directly.
   */
  findById(id: string, em?: EntityManager): Promise<DerivativeEntity | null> {
    if (em) return em.getRepository(DerivativeEntity).findOneBy({ id });
    return this.cache.readThrough('derivative', id, () => this.ds.getRepository(DerivativeEntity).findOneBy({ id }), reviveDerivative);
  }

  /**
   * `find` through the read cache, for the public /i/ route's cache hits. Only a found
   * row is stored (absence is never cached) and the row never changes; a deleted image
   * is refused before this is reached (its own cached row is invalidated on delete).
   */
  async findCached(imageId: string, specHash: string): Promise<DerivativeEntity | null> {
    const [row] = await this.cache.readAll([this.cachedRead(imageId, specHash)] as const);
    return row;
  }

  /** `findCached` as a read-cache read, to batch with others (`ReadCache.readAll`). */
  cachedRead(imageId: string, specHash: string): CachedRead<DerivativeEntity> {
    return { kind: 'derivative-of-spec', id: `${imageId}:${specHash}`, load: () => this.find(imageId, specHash), revive: reviveDerivative };
  }

  listForImage(imageId: string): Promise<DerivativeEntity[]> {
    return this.ds.getRepository(DerivativeEntity).find({ where: { imageId }, order: { createdAt: 'DESC' } });
  }
}
