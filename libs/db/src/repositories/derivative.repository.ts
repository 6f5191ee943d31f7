import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DerivativeEntity } from '../entities';

@Injectable()
export class DerivativeRepository {
  constructor(private readonly ds: DataSource) {}

  find(imageId: string, specHash: string): Promise<DerivativeEntity | null> {
    return this.ds.getRepository(DerivativeEntity).findOneBy({ imageId, specHash });
  }

  findById(id: string, em: EntityManager = this.ds.manager): Promise<DerivativeEntity | null> {
    return em.getRepository(DerivativeEntity).findOneBy({ id });
  }

  listForImage(imageId: string): Promise<DerivativeEntity[]> {
    return this.ds.getRepository(DerivativeEntity).find({ where: { imageId }, order: { createdAt: 'DESC' } });
  }

  /** Records a derivative once per (image, spec hash); a second writer gets the first row. */
  async record(d: Omit<DerivativeEntity, 'id' | 'createdAt'>): Promise<DerivativeEntity> {
    await this.ds.query(
      `INSERT INTO derivatives (image_id, user_id, spec_hash, spec, storage_key, format, mime_type, width, height, bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT ON CONSTRAINT derivatives_one_per_spec DO NOTHING`,
      [d.imageId, d.userId, d.specHash, JSON.stringify(d.spec), d.storageKey, d.format, d.mimeType, d.width, d.height, d.bytes],
    );
    return (await this.find(d.imageId, d.specHash))!;
  }
}
