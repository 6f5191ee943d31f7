import { Injectable } from '@nestjs/common';
import { DomainException, FieldError, NotFoundException, ValidationFailedException } from '@pixmill/common';
import { PresetRepository, PresetRow } from '@pixmill/db';
import { parseSpec, TransformationSpec } from '@pixmill/imaging';
import { PresetDto } from './preset.dto';

export const PRESET_NAME = /^[a-z0-9-]{1,64}$/;

/**
 * Named specs (SPEC §8). A request naming a preset runs the preset's operations first,
 * then its own; the preset's output settings apply unless the request sets them.
 */
@Injectable()
export class PresetsService {
  constructor(private readonly presets: PresetRepository) {}

  async create(userId: string, body: unknown): Promise<PresetDto> {
    const { name, spec } = this.readBody(body, null);
    const row = await this.presets.create(userId, name, spec as unknown as Record<string, unknown>);
    if (!row) throw new DomainException('conflict', `You have a preset named ${name} already; PUT /v1/presets/${name} replaces it.`);
    return toDto(row);
  }

  async list(userId: string): Promise<PresetDto[]> {
    return (await this.presets.list(userId)).map(toDto);
  }

  async get(userId: string, name: string): Promise<PresetDto> {
    const row = PRESET_NAME.test(name) ? await this.presets.find(userId, name) : null;
    if (!row) throw new NotFoundException('Preset');
    return toDto(row);
  }

  async replace(userId: string, name: string, body: unknown): Promise<PresetDto> {
    if (!PRESET_NAME.test(name)) throw new NotFoundException('Preset');
    const { spec } = this.readBody(body, name);
    const row = await this.presets.replace(userId, name, spec as unknown as Record<string, unknown>);
    if (!row) throw new NotFoundException('Preset');
    return toDto(row);
  }

  async delete(userId: string, name: string): Promise<void> {
    if (!PRESET_NAME.test(name) || !(await this.presets.delete(userId, name))) throw new NotFoundException('Preset');
  }

  /** The preset's spec; an unknown name is a bad field of the request (`field`). */
  async spec(userId: string, name: unknown, field: string): Promise<TransformationSpec> {
    const row = typeof name === 'string' && PRESET_NAME.test(name) ? await this.presets.find(userId, name) : null;
    if (!row) throw new ValidationFailedException([{ field, message: `you have no preset named ${String(name)}` }]);
    return parseSpec(row.spec);
  }

  /** The preset's operations, then the request's; the request's output settings over the preset's. */
  static merge(preset: TransformationSpec, own: TransformationSpec): TransformationSpec {
    const ownOutput = Object.fromEntries(Object.entries(own.output).filter(([, v]) => v !== undefined));
    return parseSpec({ operations: [...preset.operations, ...own.operations], output: { ...preset.output, ...ownOutput } });
  }

  private readBody(body: unknown, pathName: string | null): { name: string; spec: TransformationSpec } {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const name = pathName ?? b.name;
    const errors: FieldError[] = [];
    if (typeof name !== 'string' || !PRESET_NAME.test(name)) errors.push({ field: 'name', message: 'name must be 1–64 characters of a-z, 0-9 and -' });
    if (pathName !== null && b.name !== undefined && b.name !== pathName) errors.push({ field: 'name', message: 'name must match the path' });
    for (const k of Object.keys(b)) if (k !== 'name' && k !== 'spec') errors.push({ field: k, message: `property ${k} should not exist` });
    let spec: TransformationSpec | null = null;
    try {
      spec = parseSpec(b.spec);
    } catch (err) {
      if (!(err instanceof ValidationFailedException)) throw err;
      errors.push(...(err.errors ?? []).map((e) => ({ field: `spec.${e.field}`, message: e.message })));
    }
    if (errors.length || !spec) throw new ValidationFailedException(errors);
    return { name: name as string, spec };
  }
}

function toDto(r: PresetRow): PresetDto {
  return { name: r.name, spec: r.spec, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}
