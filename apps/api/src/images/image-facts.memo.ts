import { Injectable } from '@nestjs/common';
import type { ImageEntity } from '@pixmill/db';

/** What a transformation request needs to know of its image; none of it changes while the image exists. */
export type ImageFacts = Pick<ImageEntity, 'id' | 'userId' | 'format' | 'width' | 'height' | 'pages'> & { hasAlpha: boolean | null };

/** Images remembered; past this many the memo starts over (a bound on memory). */
const MEMO_MAX_ENTRIES = 10_000;

/**
 * The facts of images this API process has seen, so a burst of transformation requests on one
 * image reads it once instead of once per request (a read-cache round trip each). Safe because the
 * facts never change and the submission statement is the authority on existence: a job for an
 * image deleted since (here or by another process) fails its foreign key and answers 404
 * (JobLifecycle.submit). The owner is checked on every recall, so another user's id is still 404.
 */
@Injectable()
export class ImageFactsMemo {
  private readonly facts = new Map<string, ImageFacts>();

  recall(userId: string, imageId: string): ImageFacts | undefined {
    const known = this.facts.get(imageId);
    return known && known.userId === userId ? known : undefined;
  }

  /**
   * Whoever owns it: for the public /i/ route, which learns the owner from the image. The
   * caller must still learn that the image exists (its row), since a deletion on another
   * API process does not reach this memo.
   */
  recallAny(imageId: string): ImageFacts | undefined {
    return this.facts.get(imageId);
  }

  remember(image: ImageEntity): ImageFacts {
    if (this.facts.size >= MEMO_MAX_ENTRIES) this.facts.clear();
    const facts: ImageFacts = {
      id: image.id,
      userId: image.userId,
      format: image.format,
      width: image.width,
      height: image.height,
      pages: image.pages,
      hasAlpha: image.hasAlpha ?? null,
    };
    this.facts.set(image.id, facts);
    return facts;
  }

  forget(imageId: string): void {
    this.facts.delete(imageId);
  }
}
