import { operationChain } from './operation-chain.util';
import { TransformationSpec } from './transformation-spec.types';

const chain = (...ops: string[]) => operationChain({ operations: ops.map((op) => ({ op })) } as TransformationSpec);

describe('operationChain', () => {
  it('names the operations in order, each once', () => {
    expect(chain('resize', 'watermark')).toBe('resize+watermark');
    expect(chain('watermark', 'resize')).toBe('watermark+resize');
    expect(chain('resize', 'rotate', 'resize', 'rotate')).toBe('resize+rotate');
  });

  it('is none for a pure re-encode', () => {
    expect(chain()).toBe('none');
    expect(operationChain({} as TransformationSpec)).toBe('none');
  });

  it('reads a name it does not know as unknown', () => {
    expect(chain('resize', 'vignette', 'posterize')).toBe('resize+unknown');
  });
});
