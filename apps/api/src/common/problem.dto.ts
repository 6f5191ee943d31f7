import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' }) field: string;
  @ApiProperty({ example: 'email must be an email' }) message: string;
}

/** RFC 9457 problem details, the body of every error Pixmill answers. */
export class ProblemDto {
  @ApiProperty({ example: 'https://pixmill.dev/problems/validation_failed' }) type: string;
  @ApiProperty({ example: 'Validation failed', description: 'The title of the code, the same on every answer with it.' }) title: string;
  @ApiProperty({ example: 400 }) status: number;
  @ApiProperty({ example: 'The request is not valid.' }) detail: string;
  @ApiProperty({ example: 'validation_failed', description: 'Stable, machine-readable error code.' }) code: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
  @ApiProperty({ example: '5f0c6a2e-8b1d-4c7e-9a55-0d6f3b2e4a11' }) requestId: string;
}
