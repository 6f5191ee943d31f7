import { ApiProperty } from '@nestjs/swagger';
import { SPEC_EXAMPLE } from '../transformations/transformation-spec.openapi';

export class PresetBodyDto {
  @ApiProperty({ example: 'thumb-square', pattern: '^[a-z0-9-]{1,64}$', required: false, description: 'Required on POST; on PUT the name is the path’s.' })
  name?: string;
  @ApiProperty({ description: 'A transformation spec (SPEC §4: operations and output).', example: SPEC_EXAMPLE, type: 'object', additionalProperties: true })
  spec: Record<string, unknown>;
}

export class PresetDto {
  @ApiProperty({ example: 'thumb-square' }) name: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: SPEC_EXAMPLE }) spec: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class PresetListDto {
  @ApiProperty({ type: [PresetDto] }) items: PresetDto[];
}
